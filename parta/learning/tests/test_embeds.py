"""Video links that play on the lesson page: the parser reads each host's usual link
shapes and rebuilds the player URL from the id alone; everything else stays a link."""

import pytest
from django.urls import reverse

from parta.catalog.tests.factories import LessonFactory
from parta.learning.embeds import EMBED_HOSTS, video_embed

YT = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
RT_ID = "7ea4ba8b7d0d4bc6bd1a1bc3b2d8e1a6"
RT = f"https://rutube.ru/play/embed/{RT_ID}/"
VK = "https://vkvideo.ru/video_ext.php?oid=-22822305&id=456242289&hd=2"


@pytest.mark.parametrize(
    ("url", "src"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", YT),
        ("https://youtube.com/watch?v=dQw4w9WgXcQ&list=PL123&index=2", YT),
        ("http://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ", YT),
        ("https://music.youtube.com/watch?v=dQw4w9WgXcQ", YT),
        ("https://youtu.be/dQw4w9WgXcQ", YT),
        ("https://youtu.be/dQw4w9WgXcQ?si=abcdEFGH", YT),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", YT),
        ("https://youtube.com/shorts/dQw4w9WgXcQ?feature=share", YT),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ", YT),
        ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", YT),
        ("https://www.youtube.com/live/dQw4w9WgXcQ", YT),
        ("  https://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ  ", YT),
        ("https://www.youtube.com./watch?v=dQw4w9WgXcQ", YT),
        ("https://youtu.be/dQw4w9WgXcQ?t=90", YT + "?start=90"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1m30s", YT + "?start=90"),
        ("https://www.youtube.com/embed/dQw4w9WgXcQ?start=42", YT + "?start=42"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=oops", YT),
        (f"https://rutube.ru/video/{RT_ID}/", RT),
        (f"https://rutube.ru/video/{RT_ID}", RT),
        (f"https://rutube.ru/video/{RT_ID}/?r=wd", RT),
        (f"https://www.rutube.ru/video/{RT_ID.upper()}/", RT),
        (f"https://rutube.ru/play/embed/{RT_ID}", RT),
        (f"https://rutube.ru/shorts/{RT_ID}/", RT),
        (f"https://rutube.ru/video/private/{RT_ID}/?p=Ab_c-1", RT + "?p=Ab_c-1"),
        (f"https://rutube.ru/video/{RT_ID}/?p=<script>", RT),
        ("https://vk.com/video-22822305_456242289", VK),
        ("https://vk.com/video-22822305_456242289/", VK),
        ("https://m.vk.com/video-22822305_456242289", VK),
        ("https://vk.ru/video-22822305_456242289", VK),
        ("https://vkvideo.ru/video-22822305_456242289", VK),
        ("https://vkvideo.ru/clip-22822305_456242289", VK),
        ("https://vk.com/videos-22822305?z=video-22822305_456242289%2Fpl_-22822305_-2", VK),
        (
            "https://vk.com/video_ext.php?oid=-22822305&id=456242289&hash=ABCdef12",
            VK + "&hash=abcdef12",
        ),
        ("https://vk.com/video_ext.php?oid=-22822305&id=456242289&hash=\"x", VK),
        ("https://vk.com/video12345_67890", "https://vkvideo.ru/video_ext.php?oid=12345&id=67890&hd=2"),
    ],
)  # fmt: skip
def test_known_shapes_become_the_hosts_embed_player(url, src):
    embed = video_embed(url)
    assert embed is not None, url
    assert embed.src == src
    assert any(embed.src.startswith(host + "/") for host in EMBED_HOSTS)


@pytest.mark.parametrize(
    "url",
    [
        None, 42, b"https://youtu.be/dQw4w9WgXcQ", "", "   ", "youtube",
        "javascript:alert(1)//youtu.be/dQw4w9WgXcQ",
        "data:text/html,<iframe src=https://youtu.be/dQw4w9WgXcQ>",
        "ftp://youtu.be/dQw4w9WgXcQ",
        "//youtu.be/dQw4w9WgXcQ",
        "youtu.be/dQw4w9WgXcQ",
        "https://youtu.be.evil.example/dQw4w9WgXcQ",
        "https://evil.example/youtu.be/dQw4w9WgXcQ",
        "https://evil.example/watch?v=dQw4w9WgXcQ",
        "https://notyoutube.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "https://youtube.com@evil.example/watch?v=dQw4w9WgXcQ",
        "https://user:pass@youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com:8443/watch?v=dQw4w9WgXcQ",
        "https://youtube.com:99999/watch?v=dQw4w9WgXcQ",
        "https://[::1/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXc",  # 10 characters
        "https://www.youtube.com/watch?v=dQw4w9WgXcQQ",  # 12 characters
        'https://www.youtube.com/watch?v=dQw4w9WgX"Q',
        "https://www.youtube.com/watch?v=dQw4w9W%22cQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ\"><script>alert(1)</script>",
        "https://www.youtube.com/watch",
        "https://www.youtube.com/channel/UC38IQsAvIsxxjztdMZQtwHA",
        "https://www.youtube.com/playlist?list=PL590L5WQmH8fJ54F369BLDSqIwcs-TCfs",
        "https://www.youtube.com/shorts/dQw4w9WgXcQ/extra",
        "https://youtu.be/",
        "https://youtu.be/dQw4w9WgXcQ/../../evil",
        "https://www.yоutube.com/watch?v=dQw4w9WgXcQ",  # a Cyrillic "о"
        "https://xn--ytube-jye.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ\n",  # trailing newline is stripped; see below
        "https://youtu.be/dQw4w9\x00WgXcQ",
        "https://youtu.be/dQw4w9 WgXcQ",
        "https://rutube.ru/video/not-an-id/",
        f"https://rutube.ru/video/{'a' * 31}/",
        f"https://rutube.ru/channel/{'a' * 32}/",
        f"https://rutube.ru.evil.example/video/{'a' * 32}/",
        "https://vk.com/id1",
        "https://vk.com/video",
        "https://vk.com/video-abc_123",
        "https://vk.com/video-1_2_3",
        "https://vk.com/away.php?to=https://youtu.be/dQw4w9WgXcQ",
        "https://vk.com/video_ext.php?oid=-1&id=x",
        "https://vk.com/video_ext.php?oid=1;alert(1)&id=2",
        "https://vk.com.evil.example/video-1_2",
        "https://vimeo.com/76979871",
        "https://example.com/video.mp4",
        "https://youtu.be/" + "a" * 5000,
        "https://youtube.com/watch?" + "&".join(f"k{i}=v" for i in range(200)) + "&v=dQw4w9WgXcQ",
        "https://" + "a" * 3000 + ".com/",
    ],
)  # fmt: skip
def test_anything_else_keeps_the_link(url):
    if url == "https://youtu.be/dQw4w9WgXcQ\n":
        assert video_embed(url) is not None  # only surrounding whitespace is forgiven
        return
    assert video_embed(url) is None


def test_lesson_page_embeds_the_player_and_keeps_a_link(client, course, topic, student):
    lesson = LessonFactory(topic=topic, video_url="https://youtu.be/dQw4w9WgXcQ")
    client.force_login(student)
    html = client.get(reverse("learning:lesson", args=[course.slug, lesson.pk])).content.decode()
    assert f'<iframe src="{YT}"' in html
    assert 'referrerpolicy="strict-origin-when-cross-origin"' in html
    assert "Открыть на YouTube" in html
    assert "style=" not in html


def test_lesson_page_keeps_a_plain_link_for_other_hosts(client, course, topic, student):
    lesson = LessonFactory(topic=topic, video_url="https://vimeo.com/76979871")
    client.force_login(student)
    html = client.get(reverse("learning:lesson", args=[course.slug, lesson.pk])).content.decode()
    assert "<iframe" not in html
    assert 'href="https://vimeo.com/76979871"' in html
