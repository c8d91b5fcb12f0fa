"""Where exported history goes: a local directory, or an S3-compatible bucket (Supabase
Storage's S3 protocol, AWS S3, MinIO, SeaweedFS...).

DuckDB writes to S3 only through its httpfs extension, which it downloads at run time from its
own extension site; a machine that reaches only package registries cannot. So the file is
written and verified locally first (jobsdb.history), then uploaded with boto3 (the `history`
extra), and the upload is checked: the object's size must be the file's, and its sha256 (sent as
metadata) must come back. The manifest goes last, so a manifest in the bucket means a complete
file beside it.

Configuration is boto3's own, from the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_REGION (or AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) for a store
other than AWS. Paths are addressed path-style, as Supabase Storage requires.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jobsdb import errors, history

BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,62}$")


@dataclass(frozen=True)
class S3Place:
    bucket: str
    prefix: str  # "" or ending in "/"

    def key(self, name: str) -> str:
        return self.prefix + name

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse(dest: str) -> Path | S3Place:
    """A local directory, or s3://bucket[/prefix]; UsageError for any other URL."""
    if "://" not in dest:
        return Path(dest)
    scheme, _, rest = dest.partition("://")
    if scheme != "s3":
        raise errors.UsageError(f"destination {dest!r}: give a local directory or an"
                                " s3://bucket/prefix URL")
    bucket, _, prefix = rest.partition("/")
    if not BUCKET.match(bucket):
        raise errors.UsageError(f"destination {dest!r} has no valid bucket name: give"
                                " s3://bucket/prefix")
    prefix = prefix.strip("/")
    return S3Place(bucket, prefix + "/" if prefix else "")


def client():
    """A boto3 S3 client configured from the environment (path-style addressing)."""
    try:
        import boto3
        from botocore.config import Config
    except ModuleNotFoundError as e:
        raise errors.SetupError(
            "an s3:// destination needs boto3 (the `history` extra): pip install"
            " 'jobsdb[history]'"
        ) from e
    return boto3.client("s3", config=Config(s3={"addressing_style": "path"},
                                            retries={"max_attempts": 3, "mode": "standard"}))


def storage_error(e: Exception, place: S3Place) -> errors.UserError:
    """One line for what boto3 raised."""
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as be

    if isinstance(e, S3UploadFailedError) and isinstance(e.__context__, Exception):
        e = e.__context__  # boto3's transfer wraps the ClientError it got
    if isinstance(e, be.NoCredentialsError):
        why = ("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Supabase:"
               " Storage > S3 access keys)")
    elif isinstance(e, be.EndpointConnectionError | be.ConnectTimeoutError):
        why = (f"cannot reach the endpoint ({errors.one_line(str(e))}): check"
               " AWS_ENDPOINT_URL_S3")
    elif isinstance(e, be.ClientError):
        err = e.response.get("Error", {})
        code = err.get("Code", "?")
        why = f"{code}: {err.get('Message') or 'refused'}"
        if code in ("404", "NoSuchBucket"):
            why = f"no bucket {place.bucket!r} (create it first: Supabase: Storage > New bucket)"
        elif code in ("403", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"):
            why = (f"{code}: the credentials are refused; check AWS_ACCESS_KEY_ID and"
                   " AWS_SECRET_ACCESS_KEY")
    else:
        why = errors.one_line(str(e))
    return errors.UserError(f"object store {place}: {why}", exit_code=errors.STORAGE)


def upload(path: Path, manifest_file: Path, place: S3Place, sha256: str,
           log: Callable[[str], None] = lambda s: None) -> str:
    """Put the verified file, check the object, then put its manifest. Returns the file's URL."""
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as be

    s3 = client()
    key = place.key(path.name)
    try:
        log(f"uploading {path.name} to {place}")
        s3.upload_file(str(path), place.bucket, key,
                       ExtraArgs={"Metadata": {"sha256": sha256},
                                  "ContentType": "application/vnd.apache.parquet"})
        head = s3.head_object(Bucket=place.bucket, Key=key)
        if head["ContentLength"] != path.stat().st_size or \
                head.get("Metadata", {}).get("sha256") != sha256:
            raise history.VerifyError(
                f"s3://{place.bucket}/{key}: the stored object is not the verified file (size"
                f" {head['ContentLength']}, {path.stat().st_size} written); its manifest is not"
                " uploaded")
        s3.upload_file(str(manifest_file), place.bucket, place.key(manifest_file.name),
                       ExtraArgs={"ContentType": "application/json"})
    except (be.BotoCoreError, be.ClientError, S3UploadFailedError) as e:
        raise storage_error(e, place) from e
    return f"s3://{place.bucket}/{key}"


def check_bucket(place: S3Place) -> None:
    """Before the export's work: the store answers, the credentials hold, the bucket exists."""
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as be

    try:
        client().head_bucket(Bucket=place.bucket)
    except (be.BotoCoreError, be.ClientError, S3UploadFailedError) as e:
        raise storage_error(e, place) from e


def export(url: str, table: str, dest: str,
           log: Callable[[str], None] = lambda s: None) -> tuple[str, history.Manifest]:
    """Export `table` to `dest` (directory or s3://bucket/prefix): verified, then in place under
    its final name. Returns where the Parquet file is, and its manifest."""
    from jobsdb import history_forget

    place = parse(dest)
    if isinstance(place, Path):
        history._check_writable(place)
        # written and verified beside the destination, then published under its lock without
        # the users deleted meanwhile (history_forget.without_forgotten)
        with tempfile.TemporaryDirectory(dir=place, prefix=".jobsdb-export-") as work:
            path, manifest = history.export_to_dir(url, table, Path(work), log)
            with history_forget.destination_lock(url, place, wait=True) as conn:
                manifest = history_forget.without_forgotten(conn, path, manifest, log)
                final = place / path.name
                history.manifest_path(final).unlink(missing_ok=True)  # no old manifest beside
                os.replace(path, final)
                os.replace(history.manifest_path(path), history.manifest_path(final))
        return str(final), manifest
    check_bucket(place)  # boto3 missing, no bucket, bad credentials: said before the work
    with tempfile.TemporaryDirectory(prefix="jobsdb-history-") as work:
        path, manifest = history.export_to_dir(url, table, Path(work), log)
        with history_forget.destination_lock(url, place, wait=True) as conn:
            manifest = history_forget.without_forgotten(conn, path, manifest, log)
            where = upload(path, history.manifest_path(path), place, manifest.sha256, log)
    return where, manifest


def download(place: S3Place, into: Path, log: Callable[[str], None] = lambda s: None
             ) -> list[Path]:
    """Every exported file under the prefix (those with a manifest) into a local directory,
    skipping files already there with the manifest's sha256; each one verified."""
    from botocore import exceptions as be

    s3 = client()
    into.mkdir(parents=True, exist_ok=True)
    got = []
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=place.bucket,
                                                              Prefix=place.prefix)
        keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
        for mkey in (k for k in keys if k.endswith(".parquet.json")):
            name = mkey[len(place.prefix):].rsplit("/", 1)[-1]
            local_m = into / name
            local = into / name.removesuffix(".json")
            s3.download_file(place.bucket, mkey, str(local_m))
            manifest = history.Manifest(**json.loads(local_m.read_text()))
            if not (local.is_file() and history.sha256_of(local) == manifest.sha256):
                log(f"downloading {local.name}")
                tmp = local.with_name(f".{local.name}.part")
                s3.download_file(place.bucket, mkey.removesuffix(".json"), str(tmp))
                history.verify_file(tmp, manifest)
                tmp.replace(local)
            got.append(local)
    except (be.BotoCoreError, be.ClientError) as e:
        raise storage_error(e, place) from e
    return got
