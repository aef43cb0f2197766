"""One attempt shape: the record, the API view and the table agree."""

from photochanger.jobs.models import JobAttempt
from photochanger.jobs.schemas import AttemptRecord, AttemptView


def test_the_attempt_view_and_table_derive_from_the_record():
    record = set(AttemptRecord.model_fields)
    assert set(AttemptView.model_fields) == record | {"number"}
    assert set(JobAttempt.__table__.columns.keys()) == record | {"id", "job_id", "number"}
