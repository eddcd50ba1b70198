"""Site configuration: defaults, every problem at once, the nearest key suggested."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsgen.config import Config, ConfigError, load_config


def config_of(tmp_path: Path, yaml_text: str | None) -> Config:
    if yaml_text is not None:
        (tmp_path / "newsgen.yaml").write_text(yaml_text, encoding="utf-8")
    return load_config(tmp_path)


def problems_of(tmp_path: Path, yaml_text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_of(tmp_path, yaml_text)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    assert config_of(tmp_path, None) == Config(root=tmp_path.resolve())
    config = config_of(tmp_path, None)
    assert (config.title, config.base_url, config.language, config.timezone) == (
        "News archive",
        "http://localhost:8000/",
        "en",
        "UTC",
    )
    assert (config.per_page, config.feed_size) == (20, 50)
    assert config.output_dir == tmp_path.resolve() / "build"


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert config_of(tmp_path, "\n") == Config(root=tmp_path.resolve())


def test_every_setting_is_read(tmp_path: Path) -> None:
    config = config_of(
        tmp_path,
        "title: Archivio\nbase_url: https://example.org/archive\nlanguage: it_IT\n"
        "timezone: Europe/Rome\nper_page: 10\nfeed_size: 5\nsearch: false\nseeds: s\narticles: a\n"
        "templates: t\noutput: out\n",
    )
    assert config == Config(
        root=tmp_path.resolve(),
        title="Archivio",
        base_url="https://example.org/archive/",
        language="it-IT",
        timezone="Europe/Rome",
        per_page=10,
        feed_size=5,
        search=False,
        seeds="s",
        articles="a",
        templates="t",
        output="out",
    )
    assert config.base_path == "/archive/"


def test_overrides_win_and_none_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "newsgen.yaml").write_text("output: out\nper_page: 3\n", encoding="utf-8")
    config = load_config(tmp_path, {"output": "elsewhere", "base_url": None})
    assert (config.output, config.per_page, config.base_url) == (
        "elsewhere",
        3,
        "http://localhost:8000/",
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    assert problems_of(
        tmp_path,
        "per_pag: 5\ntitel: X\nlanguage: 7\ntimezone: Mars/Olympus\nbase_url: ftp://x\n"
        "feed_size: 0\nper_page: true\n",
    ) == [
        "newsgen.yaml: 'per_pag' is not a setting; did you mean 'per_page'?",
        "newsgen.yaml: 'titel' is not a setting; did you mean 'title'?",
        "newsgen.yaml: 'base_url': expected an absolute http(s) URL such as "
        "'https://example.org/', got 'ftp://x'",
        "newsgen.yaml: 'language': expected a non-empty string, got 7",
        "newsgen.yaml: 'timezone': unknown time zone 'Mars/Olympus'; use an IANA name such as "
        "'Europe/Rome'",
        "newsgen.yaml: 'per_page': expected a whole number of at least 1, got True",
        "newsgen.yaml: 'feed_size': expected a whole number of at least 1, got 0",
    ]


def test_a_base_url_whose_host_urllib_cannot_read_is_a_problem(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "base_url: 'https://[news/'\n") == [
        "newsgen.yaml: 'base_url': expected an absolute http(s) URL such as "
        "'https://example.org/', got 'https://[news/'"
    ]


def test_unknown_key_far_from_any_lists_the_settings(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "zzz: 1\n") == [
        "newsgen.yaml: 'zzz' is not a setting; valid settings: title, base_url, language, "
        "timezone, per_page, feed_size, search, remote_images, compress, headers, csp, "
        "max_file_mb, max_image_mb, allow_hosts, seeds, articles, templates, output, media"
    ]


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        (
            "language: italiano\n",
            "newsgen.yaml: 'language': expected a language code such as "
            "'it' or 'en', got 'italiano'",
        ),
        (
            "base_url: https://x.org/?a=1\n",
            "newsgen.yaml: 'base_url': a base URL cannot have a "
            "query or fragment, got 'https://x.org/?a=1'",
        ),
        ("title: ''\n", "newsgen.yaml: 'title': expected a non-empty string, got ''"),
        ("search: 'no'\n", "newsgen.yaml: 'search': expected true or false, got 'no'"),
        (
            "per_page: '10'\n",
            "newsgen.yaml: 'per_page': expected a whole number of at least 1, got '10'",
        ),
        *(
            (
                f"max_file_mb: {given}\n",
                "newsgen.yaml: 'max_file_mb': expected a number of megabytes above 0 such as "
                f"10, got {shown}",
            )
            for given, shown in [
                ("0", "0"),
                ("-1", "-1"),
                (".inf", "inf"),
                ("'5'", "'5'"),
                ("true", "True"),
                (".nan", "nan"),
            ]
        ),
        (
            'title: "A \\uD800 B"\n',
            "newsgen.yaml: 'title': 'A \\ud800 B' holds half of a UTF-16 surrogate pair, not "
            "a character; write the character itself",
        ),
    ],
)
def test_bad_values(tmp_path: Path, yaml_text: str, problem: str) -> None:
    assert problems_of(tmp_path, yaml_text) == [problem]


def test_max_file_mb_is_10_by_default_and_may_be_a_fraction(tmp_path: Path) -> None:
    assert config_of(tmp_path, None).max_file_bytes == 10 * 1024 * 1024
    config = config_of(tmp_path, "max_file_mb: 0.5\n")
    assert (config.max_file_mb, config.max_file_bytes) == (0.5, 512 * 1024)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "'+02:00'",
            "'+02:00' is an offset from UTC (+02:00), not a time zone; use an IANA name such "
            "as 'Europe/Rome' (or 'Etc/GMT-2' for a fixed +02:00)",
        ),
        (
            "UTC-3",
            "'UTC-3' is an offset from UTC (-03:00), not a time zone; use an IANA name such "
            "as 'Europe/Rome' (or 'Etc/GMT+3' for a fixed -03:00)",
        ),
        (
            "GMT+05:30",
            "'GMT+05:30' is an offset from UTC (+05:30), not a time zone; use an IANA name "
            "such as 'Europe/Rome'",
        ),
        ("2022-03-29T08:30:00+02:00", "expected a non-empty string, got 2022-03-29T08:30:00+02:00"),
    ],
)
def test_a_time_zone_error_shows_offsets_as_written(
    tmp_path: Path, given: str, message: str
) -> None:
    assert problems_of(tmp_path, f"timezone: {given}\n") == [f"newsgen.yaml: 'timezone': {message}"]


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "title: A\nper_page: [1\n") == [
        "newsgen.yaml:2: not valid YAML (expected ',' or ']', but got '<stream end>')"
    ]


def test_not_a_mapping(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "- a\n") == [
        "newsgen.yaml: expected a mapping of settings (key: value lines)"
    ]


def test_python_tags_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    problems = problems_of(tmp_path, f"title: !!python/object/apply:os.system ['touch {marker}']\n")
    assert problems == [
        "newsgen.yaml:1: not valid YAML (could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system')"
    ]
    assert not marker.exists()


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "newsgen.yaml").write_bytes(b"title: Citt\xe0 di Castello\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.problems == [
        "newsgen.yaml: cannot be read ('utf-8' codec can't decode byte 0xe0 in position 11: "
        "invalid continuation byte); save it as UTF-8"
    ]


def test_fingerprint_follows_output_settings_only(tmp_path: Path) -> None:
    base = load_config(tmp_path)
    assert base.fingerprint() == load_config(tmp_path, {"output": "other"}).fingerprint()
    assert base.fingerprint() != load_config(tmp_path, {"base_url": "https://x.org/"}).fingerprint()
