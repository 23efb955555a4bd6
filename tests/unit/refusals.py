"""How unit tests check a refusal: exactly that error, naming that field, and nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from eventsourcing.domain import Aggregate

from shared.errors import DomainError


@contextmanager
def refused(kind: type[DomainError], field: str | None, aggregate: Aggregate) -> Iterator[
        pytest.ExceptionInfo]:
    """The command raises exactly ``kind`` naming ``field``, and changes nothing."""
    version = aggregate.version
    with pytest.raises(kind) as caught:
        yield caught
    assert type(caught.value) is kind
    assert caught.value.field == field
    assert aggregate.version == version
