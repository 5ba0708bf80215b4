"""Training defaults that are fixed values, shared by :class:`zoo.config.TrainConfig` and ``zoo tune`` (a light
module: the CLI's ``--help`` imports it). The choices made from the data live in :mod:`zoo.recipe`."""

BATCH_SIZE = 32
LR_DECAY = 0.3  # plateau schedule: back to the best weights, learning rate times this (1 = off)
LABEL_SMOOTHING = 0.0  # train toward (1 - this) on the true class and the rest spread evenly over the classes
TOKEN_DROPOUT = 0.15  # text: fraction of real tokens replaced by the unknown-word id each epoch (word dropout)
SCHEDULES = ("auto", "plateau", "cosine", "constant")
