"""Training defaults shared by :func:`zoo.train` and the CLI (a light module: the CLI's ``--help`` imports it)."""

VAL_FRACTION = 0.1  # stratified validation hold-out when no validation file is given
EPOCHS = 30  # upper bound; early stopping on validation loss ends most runs long before
PATIENCE = 3  # epochs without a validation-loss improvement before stopping
BATCH_SIZE = 32
LR_DECAY = 0.3  # on a validation-loss plateau: back to the best weights, learning rate times this (1 = off)
TOKEN_DROPOUT = 0.15  # text: fraction of real tokens replaced by the unknown-word id each epoch (word dropout)
SEQ_LEN_CAP = 512  # for architectures whose default seq_len is None
