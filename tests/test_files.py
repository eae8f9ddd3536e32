"""Files and catalogs: empty, binary, deeply nested, huge, anchors and tags all get one clear line, exit 2."""

from __future__ import annotations

import pytest

from inferwall.catalog.yamlio import MAX_FILE_BYTES
from inferwall.cli.main import main

CASES = {
    "empty.yaml": (b"", "file is empty"),
    "blank.yaml": (b"   \n\n", "file is empty"),
    "binary.yaml": (b"\x00\x01\x02\xff" * 10, "binary file"),
    "latin1.yaml": ("accelerators: [caf\xe9]".encode("latin-1"), "not UTF-8"),
    "nested.yaml": (("a:\n" + "".join("  " * i + "  b:\n" for i in range(60)) + "  " * 61 + "x: 1\n").encode(),
                    "nesting deeper than"),
    "anchors.yaml": (b"base: &b {memory: {capacity: 80GiB}}\naccelerators:\n  - *b\n", "anchors (&b) are not allowed"),
    "tags.yaml": (b"accelerators: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
    "broken.yaml": (b"accelerators: [\n  - id: x\n", "invalid YAML"),
    "scalar.yaml": (b"42\n", "expected a mapping"),
    "huge.yaml": (b"#" * (MAX_FILE_BYTES + 1), "larger than"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("how", ["catalog", "model", "plan"])
def test_bad_files_are_one_line_errors(capsys, tmp_path, name, how):
    content, needle = CASES[name]
    path = tmp_path / name
    path.write_bytes(content)
    argv = {"catalog": ["estimate", "-m", "llama-3.1-8b", "--catalog", str(path)],
            "model": ["estimate", "-m", str(path)],
            "plan": ["check", str(path)]}[how]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert str(path) in err
    if name != "scalar.yaml":  # a bare scalar is rejected by each reader in its own words
        assert needle in err, err


def test_directory_and_missing_file(capsys, tmp_path):
    for argv, needle in ((["estimate", "-m", "llama-3.1-8b", "--catalog", str(tmp_path)], "is a directory"),
                         (["estimate", "-m", "llama-3.1-8b", "--catalog", str(tmp_path / "no.yaml")], "no such file")):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert needle in err and out == ""


def test_yaml_loading_is_safe(tmp_path):
    """A python/object tag must never run: the safe loader refuses it before construction."""
    from inferwall.catalog.yamlio import load_document
    from inferwall.errors import InputError

    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"x: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(InputError):
        load_document(path)
    assert not marker.exists()


def test_output_files_are_written_atomically(tmp_path, monkeypatch):
    """An interrupted write leaves neither a half-written file nor a temporary one."""
    import os

    from inferwall.render.check import write_atomically

    target = tmp_path / "report.xml"
    target.write_bytes(b"old complete report")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(target), b"new report" * 1000)
    assert target.read_bytes() == b"old complete report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xml"]
    monkeypatch.undo()
    write_atomically(str(target), b"new report")
    assert target.read_bytes() == b"new report"
