"""`zoo serve` as a real subprocess on a free port, spoken to over real HTTP: health, metadata, predictions equal to
the library's, concurrent requests batched together, bad requests answered 4xx without taking it down, SIGTERM
answering the requests in flight."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

import zoo

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")



@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, keyword_file):
    d = tmp_path_factory.mktemp("serve")
    keyword_file(d / "train.txt", 150, 0)
    run = zoo.train("lstm", d / "train.txt", out=d / "run", seed=0, steps=300, verbose=0,
                    hyperparameters={"units": 8, "embed_dim": 8, "learning_rate": 0.02})
    return run.out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, run_dir, *extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "zoo.cli", "serve", str(run_dir), "--port",
                                      str(self.port), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        deadline = time.time() + 120
        while time.time() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read()
            try:
                if self.get("/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the server did not come up")

    def request(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def get(self, path):
        return self.request("GET", path)

    def post(self, body=None, raw=None):
        if raw is not None and len(raw) > 2**20:  # the server answers 413 before reading it all: read the answer
            return self.post_unread(raw)
        return self.request("POST", "/v1/predict", body, raw)

    def post_unread(self, raw):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.putrequest("POST", "/v1/predict")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(raw)))
        conn.endheaders()
        try:
            conn.send(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer is waiting
        response = conn.getresponse()
        status, body = response.status, json.loads(response.read())
        conn.close()
        return status, body

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def server(run_dir):
    s = Server(run_dir, "--max-wait-ms", "20")
    yield s
    s.stop()


def test_health_metadata_and_docs(server, run_dir):
    assert server.get("/health") == (200, {"status": "ok"})
    status, meta = server.get("/v1/metadata")
    assert status == 200
    assert meta["labels"] == ["anger", "joy", "sadness"] and meta["input"] == "text"
    assert meta["architecture"] == "lstm" and meta["package"] == "keras-zoo" and meta["versions"]["keras"]
    assert meta["metrics"]["accuracy"] == json.loads((run_dir / "metrics.json").read_text())["accuracy"]
    status, spec = server.get("/openapi.json")
    assert status == 200 and "/v1/predict" in spec["paths"]
    body = spec["paths"]["/v1/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["inputs"]


def test_predictions_equal_the_librarys(server, run_dir):
    texts = ["i feel so happy and glad", "i cry and feel blue", "rage furious mad", "the"]
    status, out = server.post({"inputs": texts, "top_k": 2})
    assert status == 200 and len(out["predictions"]) == 4
    expected = zoo.load(run_dir).predict_proba(texts)
    for p, row in zip(out["predictions"], expected):
        labels = ["anger", "joy", "sadness"]
        assert p["label"] == labels[int(row.argmax())]
        assert p["probability"] == pytest.approx(float(row.max()), abs=1e-5)
        assert len(p["top"]) == 2 and p["top"][0]["probability"] >= p["top"][1]["probability"]


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(server):
    texts = [f"i feel {w} today" for w in ("happy", "blue", "mad", "glad", "down", "rage", "great", "cry")]
    _, before = server.get("/v1/metadata")
    results = {}

    def client(i):
        for j in range(4):
            text = texts[(i + j) % len(texts)]
            results[(i, j)] = (text, server.post({"inputs": [text]}))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 128
    single = {t: server.post({"inputs": [t]})[1]["predictions"][0]["label"] for t in texts}
    for text, (status, out) in results.values():
        assert status == 200 and out["predictions"][0]["label"] == single[text]
    _, after = server.get("/v1/metadata")
    requests = after["served"]["requests"] - before["served"]["requests"]
    calls = after["served"]["model_calls"] - before["served"]["model_calls"]
    assert requests == 128 + len(texts) and calls < requests / 2  # many requests per model call


@pytest.mark.parametrize("raw,status,message", [
    (b"{bad json", 400, "the body is not valid JSON"),
    (b"[1, 2]", 400, "the body must be a JSON object"),
    (b'{"inputs": []}', 422, "inputs is empty; send at least one input."),
    (b'{"inputs": "hello"}', 422, "inputs must be a list of texts."),
    (b'{"inputs": [[[1.0, 2.0]]]}', 422, "this model takes texts; inputs[0] is not a string."),
    (b'{"inputs": ["a"], "top_k": 0}', 422, "top_k must be a positive integer, got 0."),
    (b'{"inputs": ["a"], "topk": 2}', 422, "unknown field(s) topk; the fields are inputs and top_k."),
    (json.dumps({"inputs": ["a"] * 2000}).encode(), 413, "2000 inputs in one request; at most 1024."),
    (json.dumps({"inputs": ["x" * 1000] * 9000}).encode(), 413, "the request body is"),
])
def test_bad_requests_get_a_4xx_and_the_server_lives_on(server, raw, status, message):
    got, body = server.post(raw=raw)
    assert got == status and body["error"].startswith(message)
    assert server.get("/health") == (200, {"status": "ok"})


def test_sigterm_answers_the_requests_in_flight(run_dir):
    s = Server(run_dir, "--max-wait-ms", "800")  # requests wait in the batcher: SIGTERM lands while they do
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(s.post({"inputs": ["i feel happy"]})))
               for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(timeout=60)
    assert s.proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn drains, then exits by the signal it caught
    assert len(answers) == 6 and all(status == 200 for status, _ in answers)


def test_a_missing_run_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "zoo.cli", "serve", str(tmp_path / "nope")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("zoo: error: ") and "Traceback" not in r.stderr
