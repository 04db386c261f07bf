"""config.asgi's HTTP handler: a response streaming from a synchronous iterator (a video
through FileResponse, a download, a static file) is sent in steps as it is read, not read
whole into memory first as Django's own ASGI handler does."""

import tempfile
import warnings

from django.http import FileResponse, StreamingHttpResponse

from config.asgi import STREAM_READ_BYTES, StreamingASGIHandler
from parta.chat.tests.test_realtime import run_async

PART = 64 * 1024


def serve(response, progress: list) -> tuple[bytes, list[int]]:
    """The body the handler sends, and for each body message how long ``progress`` (what
    the source had been read of) was when it was sent."""
    chunks, read_when_sent = [], []

    async def send(message):
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            read_when_sent.append(len(progress))

    with warnings.catch_warnings():
        # Django warns when it reads a synchronous iterator whole; that must not happen.
        warnings.simplefilter("error")
        run_async(StreamingASGIHandler().send_response, response, send)
    return b"".join(chunks), read_when_sent


def test_a_long_stream_is_sent_while_it_is_read():
    read = []

    def parts():
        for i in range(40):  # 2.5 MB
            read.append(i)
            yield bytes([i]) * PART

    body, read_when_sent = serve(StreamingHttpResponse(parts()), read)
    assert body == b"".join(bytes([i]) * PART for i in range(40))
    # The first bytes left once one step's worth had been read, not the whole stream.
    assert read_when_sent[0] == STREAM_READ_BYTES // PART
    assert read_when_sent[-1] == 40


def test_a_file_response_is_read_in_steps_and_sent_whole():
    reads = []

    class CountingFile(tempfile.SpooledTemporaryFile):
        def read(self, *args):
            data = super().read(*args)
            reads.append(len(data))
            return data

    source = CountingFile()
    content = bytes(range(256)) * 4096 * 3  # 3 MB
    source.write(content)
    source.seek(0)
    response = FileResponse(source, filename="lesson.mp4", content_type="video/mp4")
    body, reads_when_sent = serve(response, reads)
    source.close()
    assert body == content
    steps = STREAM_READ_BYTES // response.block_size
    assert reads_when_sent[0] <= steps
    assert len(reads) > 10 * steps
