"""Content-addressed blob store on the local disk: recordings are kept by the SHA-256 of their bytes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from core.private import private_dir

CHUNK = 1 << 20


class BlobStore:
    """Blobs under root/ab/cdef…; writes are atomic, the same content is stored once."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:]

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def _commit(self, tmp: Path, key: str) -> str:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)  # atomic: a crash never leaves a half-written blob under its final name
        return key

    def _tempfile(self):
        private_dir(self.root, ours=True)
        return tempfile.NamedTemporaryFile(dir=self.root, prefix=".incoming-", delete=False)

    def put_file(self, source: Path) -> str:
        """Store a file's bytes; return their key."""
        digest = hashlib.sha256()
        with Path(source).open("rb") as src, self._tempfile() as tmp:
            while block := src.read(CHUNK):
                digest.update(block)
                tmp.write(block)
            tmp.flush()
            os.fsync(tmp.fileno())
        return self._commit(Path(tmp.name), digest.hexdigest())

    def put_bytes(self, data: bytes) -> str:
        with self._tempfile() as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        return self._commit(Path(tmp.name), hashlib.sha256(data).hexdigest())

    def put_tree(self, folder: Path) -> str:
        """Store every file of a folder, then a manifest {relative path: key}; the manifest's key names the tree."""
        folder = Path(folder)
        manifest = {p.relative_to(folder).as_posix(): self.put_file(p)
                    for p in sorted(folder.rglob("*")) if p.is_file()}
        return self.put_bytes(json.dumps({"tree": manifest}, sort_keys=True).encode())

    def tree(self, key: str) -> dict[str, str] | None:
        """The manifest of a tree blob, or None when the blob is a plain file."""
        try:
            data = json.loads(self.path(key).read_bytes())
        except (ValueError, UnicodeDecodeError):
            return None
        return data.get("tree") if isinstance(data, dict) else None

    def materialize(self, key: str, dest: Path) -> Path:
        """Rebuild a stored tree (or copy a stored file) at `dest`."""
        manifest = self.tree(key)
        if manifest is None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.path(key), dest)
            return dest
        for name, file_key in manifest.items():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.path(file_key), target)
        return dest

    def delete(self, key: str) -> None:
        """Remove one blob; a tree's member files stay, since other trees may hold the same bytes."""
        self.path(key).unlink(missing_ok=True)
