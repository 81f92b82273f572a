"""The blob store: content-addressed, idempotent, atomic, and able to keep folders of tracks."""

import hashlib

from storage.blobs import BlobStore


def test_same_content_same_key_stored_once(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    (tmp_path / "a.ogg").write_bytes(b"audio bytes")
    key = store.put_file(tmp_path / "a.ogg")
    assert key == hashlib.sha256(b"audio bytes").hexdigest()
    assert store.put_bytes(b"audio bytes") == key
    assert store.path(key).read_bytes() == b"audio bytes"
    files = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert files == [store.path(key)], "no temporary files are left behind"


def test_trees_round_trip(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    tracks = tmp_path / "tracks"
    tracks.mkdir()
    (tracks / "Ana.ogg").write_bytes(b"ana")
    (tracks / "Ben.ogg").write_bytes(b"ben")
    key = store.put_tree(tracks)
    assert store.put_tree(tracks) == key
    assert set(store.tree(key)) == {"Ana.ogg", "Ben.ogg"}
    out = store.materialize(key, tmp_path / "restored")
    assert (out / "Ana.ogg").read_bytes() == b"ana" and (out / "Ben.ogg").read_bytes() == b"ben"


def test_a_plain_file_is_not_a_tree_and_deletes(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    key = store.put_bytes(b'{"not": "a tree"}')
    assert store.tree(key) is None
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)
