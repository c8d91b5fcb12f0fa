"""A prompt that shows nothing is an empty prompt: white space (Unicode's White_Space, e.g.
`\\t\\n`, U+3000), control and format characters (U+200B, U+FEFF, ...) and the other
default-ignorable code points (fillers, variation selectors, tags). queue_job refuses it exactly
as it refuses '' (22023, the same message) and writes nothing, unless the job is an exact copy.
The set is taken from Python's Unicode database (categories Cc, Cf, Zs, Zl, Zp) and Unicode's
Default_Ignorable_Code_Point property, not from the function's own list."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc

EMPTY = "prompt must be a non-empty text of at most 10000 characters"
# Unicode's DerivedCoreProperties.txt, Default_Ignorable_Code_Point (stable since Unicode 5.2)
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
]
BLANK = sorted(
    {cp for cp in range(1, 0x110000)
     if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zs", "Zl", "Zp")}
    | {cp for lo, hi in DEFAULT_IGNORABLE for cp in range(lo, hi + 1)}
)  # fmt: skip


def runs(cps: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


@pytest.fixture
def db(fresh_db: str) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        user = str(conn.execute("select tests.create_user('a@example.com')").fetchone()[0])
        conn.execute("update jobs_private.settings set max_queued_per_user = 1000,"
                     " jobs_per_minute = null")  # the rate has tests of its own
        yield conn, user


def queue(conn: psycopg.Connection[Any], user: str, **args: Any) -> tuple[str, str]:
    """('ok', status) or ('err', 'sqlstate: message')."""
    try:
        res = rpc(conn, "queue_job", {"job_type": "sdxl_image_fast", **args}, claims=as_user(user))
        return ("ok", res["jobs"][0]["status"])
    except psycopg.Error as e:
        return ("err", f"{e.sqlstate}: {e.diag.message_primary}")


def jobs(conn: psycopg.Connection[Any]) -> int:
    return conn.execute("select count(*) from public.jobs").fetchone()[0]


@pytest.mark.parametrize("prompt", [
    "", " ", "\t\n", "\u200b", "\u3000", "\u00a0", "\r\n\u2028\u2029", "\ufeff", "\u2060",
    "\u180e", "\u034f", "\u3164", "\U000e0020\U000e007f", " \u200d\t\u00ad ",
])  # fmt: skip
def test_a_prompt_that_shows_nothing_is_refused_like_an_empty_one(db, prompt: str) -> None:
    conn, user = db
    for args in ({"prompt": prompt}, {"metadata": {"prompt": prompt}}):
        assert queue(conn, user, **args) == ("err", f"22023: {EMPTY}"), args
    assert jobs(conn) == 0
    # control: one visible character makes it a prompt
    assert queue(conn, user, prompt=prompt + "a") == ("ok", "queued")


def test_every_blank_character_is_blank_and_their_neighbours_are_not(db) -> None:
    conn, user = db
    assert 0 < len(BLANK) < 10000  # one prompt holds them all
    assert queue(conn, user, prompt="".join(map(chr, BLANK))) == ("err", f"22023: {EMPTY}")
    assert jobs(conn) == 0
    # the visible character just before and just after each run of blank ones is a prompt
    visible = []
    for lo, hi in runs(BLANK):
        for cp in (lo - 1, hi + 1):
            if 0 < cp < 0x110000 and unicodedata.category(chr(cp))[0] in "LNPS":
                visible.append(cp)
    assert len(visible) > 20
    for cp in visible:
        assert queue(conn, user, prompt=chr(cp)) == ("ok", "queued"), hex(cp)


def test_an_exact_copy_needs_no_prompt_but_a_reference_that_shows_something(db) -> None:
    conn, user = db
    copy = {"exact_copy_mode": True, "reference_image_url": "https://x/ref.png"}
    assert queue(conn, user, prompt="\u200b\t", metadata=copy) == ("ok", "queued")
    blank_ref = {**copy, "reference_image_url": "\u3000\u200b"}
    assert queue(conn, user, prompt="", metadata=blank_ref) == ("err", f"22023: {EMPTY}")
    assert jobs(conn) == 1
