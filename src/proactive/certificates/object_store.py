"""Certificate files in S3-compatible object storage (AWS S3, Aliyun OSS, MinIO, ...) through
boto3, for a city whose issuing runs on several machines.

Staging keeps the bytes in memory; publishing is one PUT, so an object is either all there or
absent, as a renamed file is. A crash between the PUT and the commit leaves an object whose row
is still `pending`: the next run renders that number again and its PUT replaces the object.
Credentials and region come from boto3's usual chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION, ~/.aws, an instance role); never from our settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from proactive.certificates.file_store import S3_SCHEME
from proactive.errors import ProactiveError


class ObjectStoreError(ProactiveError):
    """The object store location is not s3://bucket[/prefix]"""


@dataclass
class StagedObject:
    client: Any  # a boto3 S3 client (boto3 ships no type information)
    bucket: str
    key: str
    data: bytes | None = field(repr=False)

    @property
    def target(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key}"

    def publish(self) -> str:
        if self.data is not None:
            self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=self.data, ContentType="application/pdf"
            )
            self.data = None
        return self.target

    def discard(self) -> None:
        self.data = None


class S3Store:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    def from_url(cls, url: str, endpoint_url: str = "") -> S3Store:
        import boto3

        bucket, _, prefix = url.removeprefix(S3_SCHEME).partition("/")
        if not bucket:
            raise ObjectStoreError(url)
        return cls(boto3.client("s3", endpoint_url=endpoint_url or None), bucket, prefix)

    def stage(self, name: str, data: bytes) -> StagedObject:
        key = f"{self.prefix}/{name}" if self.prefix else name
        return StagedObject(self.client, self.bucket, key, data)

    def remove_temporary(self) -> int:
        return 0  # staging never writes to the bucket

    def read(self, location: str) -> bytes | None:
        bucket, _, key = location.removeprefix(S3_SCHEME).partition("/")
        try:
            answer = self.client.get_object(Bucket=bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body

    def locations(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield f"{S3_SCHEME}{self.bucket}/{item['Key']}"
