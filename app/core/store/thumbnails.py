"""The gallery's stored thumbnails (Qt-free): one small JPEG per photo and content hash, so a
folder opened again shows the photos already scored without decoding them. Measured before:
reopening 50 scored 12 MP JPEGs took 4.6-5.0 s, 3.3-3.7 s of it decoding previews (~70 ms each).
Made at 256 px now (the gallery's largest, app.core.imageio.thumbnail); rows of 128 px stored
before stay, and are replaced once a larger one is asked for
(app.core.scoring.catalogue.full_size_thumbnail)."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from .database import Database
from .repository import insert_if_absent
from .schema import Image, Thumbnail, utcnow


def stored_thumbnail(db: Database, path: str, content_hash: str | None) -> bytes | None:
    """The thumbnail stored for this photo's current content, or None."""
    if not content_hash:
        return None
    with db.session() as s:
        return s.scalar(select(Thumbnail.jpeg).join(Image, Image.id == Thumbnail.image_id)
                        .where(Image.path == path, Thumbnail.content_hash == content_hash))


def stored_content_hash(db: Database, path: str) -> str | None:
    """The content hash the database holds for the photo at ``path`` (None: not known)."""
    with db.session() as s:
        return s.scalar(select(Image.content_hash).where(Image.path == path))


def store_thumbnail(db: Database, path: str, content_hash: str | None, jpeg: bytes | None,
                    replace: bool = False) -> None:
    """Keep ``jpeg`` as the thumbnail of this content of the photo stored at ``path`` (one per
    photo: an older content's is dropped). Two stations storing it at once leave one row.
    ``replace``: over one already stored for this content (a larger one drawn again)."""
    if not content_hash or not jpeg:
        return
    with db.session() as s:
        image_id = s.scalar(select(Image.id).where(Image.path == path))
        if image_id is None:
            return  # only photos the database knows
        s.execute(delete(Thumbnail).where(Thumbnail.image_id == image_id, Thumbnail.content_hash != content_hash))
        if replace:
            s.execute(update(Thumbnail).where(Thumbnail.image_id == image_id, Thumbnail.content_hash == content_hash)
                      .values(jpeg=jpeg, created_at=utcnow()))
        insert_if_absent(s, Thumbnail.__table__, ["image_id", "content_hash"],
                         dict(image_id=image_id, content_hash=content_hash, jpeg=jpeg, created_at=utcnow()))
