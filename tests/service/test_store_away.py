"""An operation whose store is away (PostgreSQL restarting, SQLite locked past its timeout)
answers 503 "try again" across RPC, not a 500 for the gateway to pass on."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import InterfaceError, OperationalError

from shared.errors import Unavailable
from shared.operations import Api, Operation
from shared.runtime import serve


class Records:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def read(self) -> dict:
        if self.error is not None:
            raise self.error
        return {"read": True}


class RecordsApi(Api):
    service = "records"
    read = Operation(None, Records.read, caller=None)


@serve(RecordsApi)
class RecordsService:
    def __init__(self, application: Records) -> None:
        self.application = application


@pytest.mark.parametrize("error", [OperationalError("terminating connection due to administrator command"),
                                   InterfaceError("the connection is closed")])
def test_a_store_away_is_a_503_to_try_again(error: Exception) -> None:
    with pytest.raises(Unavailable) as refused:
        RecordsService.read(RecordsService(Records(error)))
    assert refused.value.status == 503
    assert refused.value.__cause__ is error  # kept for the log's traceback


def test_an_operation_whose_store_answers_is_answered() -> None:
    assert RecordsService.read(RecordsService(Records(None))) == {"read": True}
