//! S3 client from the config: region, custom endpoint, path style, retries, and checksum
//! calculation only when required (docs/architecture.md: third-party servers mishandle the SDK default).
//!
//! Credentials come from the AWS SDK's standard chain, never from the config file.
//!
//! Uploads: files above one part go up as a multipart upload whose part size lets 10,000 parts
//! hold the file; each part carries its Content-MD5 (the server checks it), and after completion
//! the object's size and multipart ETag are compared with what was sent. Any failure or a
//! cancellation aborts the multipart upload, so no half object is left behind.

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata as _, SdkError};

use super::{StorageError, StorageFault};
use crate::config::S3Config;
use crate::files::hex;

pub async fn client(cfg: &S3Config) -> Client {
    let region = RegionProviderChain::first_try(cfg.region.clone().map(Region::new))
        .or_default_provider()
        .or_else(Region::from_static("us-east-1"));
    let sdk = aws_config::defaults(BehaviorVersion::latest()).region(region).load().await;
    let mut b = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(cfg.force_path_style)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .retry_config(RetryConfig::standard().with_max_attempts(cfg.max_attempts.unwrap_or(5)));
    if let Some(e) = &cfg.endpoint {
        b = b.endpoint_url(e);
    }
    Client::from_conf(b.build())
}

/// Checks that the bucket exists and the credentials may use it.
pub async fn probe(client: &Client, cfg: &S3Config) -> Result<(), StorageError> {
    client.head_bucket().bucket(&cfg.bucket).send().await.map(|_| ()).map_err(|e| classify(&e, cfg))
}

pub fn classify<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug>(
    e: &SdkError<E, HttpResponse>,
    cfg: &S3Config,
) -> StorageError {
    let where_ = match &cfg.endpoint {
        Some(ep) => format!("s3://{} at {ep}", cfg.bucket),
        None => format!("s3://{}", cfg.bucket),
    };
    if credentials_missing(e) {
        return StorageError::new(
            StorageFault::NoCredentials,
            format!(
                "no AWS credentials for {where_}: the SDK's credential chain (environment, profile files, instance role) provided none"
            ),
        );
    }
    match e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            StorageError::new(StorageFault::Unreachable, format!("cannot reach S3 for {where_}"))
        }
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = e.code().unwrap_or("");
            // What S3 said, always: a 403 is not always about credentials (an archive in
            // GLACIER answers InvalidObjectState, a bucket policy AccessDenied).
            let said = format!("{status} {code}: {}", e.message().unwrap_or("no message"));
            match (status, code) {
                (_, "InvalidAccessKeyId" | "SignatureDoesNotMatch") | (403, "") => {
                    StorageError::new(
                        StorageFault::Denied,
                        format!("S3 refused the credentials for {where_} ({said})"),
                    )
                }
                (_, "AccessDenied") => StorageError::new(
                    StorageFault::Forbidden,
                    format!("S3 denied the request for {where_} ({said})"),
                ),
                // HeadBucket answers a missing bucket with a bare 404 (`NotFound`).
                (_, "NoSuchBucket") | (404, "" | "NotFound") => StorageError::new(
                    StorageFault::NoBucket,
                    format!("S3 bucket {where_} does not exist ({said})"),
                ),
                _ => StorageError::new(
                    StorageFault::Service,
                    format!("S3 error for {where_}: {said}"),
                ),
            }
        }
        other => StorageError::new(
            StorageFault::Unreachable,
            format!("S3 request for {where_} failed: {}", short_debug(other)),
        ),
    }
}

/// Whether a request failed before it was sent because the SDK's credential chain found
/// nothing (its error, somewhere in the source chain, says it could not load credentials).
fn credentials_missing<E: std::fmt::Debug>(e: &SdkError<E, HttpResponse>) -> bool {
    if matches!(e, SdkError::ServiceError(_)) {
        return false;
    }
    // The SDK's error types for this (`CredentialsError`) live in a crate of their own; their
    // debug text names them.
    let text = format!("{e:?}");
    ["CredentialsNotLoaded", "source: ProviderError(", "ProviderTimedOut", "loading credentials"]
        .iter()
        .any(|marker| text.contains(marker))
}

fn short_debug(e: &impl std::fmt::Debug) -> String {
    let text = format!("{e:?}");
    text.chars().take(300).collect()
}

const MIB: u64 = 1024 * 1024;
const MIN_PART: u64 = 16 * MIB;
const MAX_PARTS: u64 = 10_000;

/// The part size for a file: the configured size (default 16 MiB), raised so that 10,000 parts
/// hold the file, rounded up to a whole MiB.
/// The Content-Type of an uploaded archive, by its name: an age file is opaque bytes.
pub fn content_type(key: &str) -> &'static str {
    if key.ends_with(".age") {
        "application/octet-stream"
    } else if key.ends_with(".zst") {
        "application/zstd"
    } else if key.ends_with(".gz") {
        "application/gzip"
    } else {
        "application/octet-stream"
    }
}

pub fn part_size(file_size: u64, configured_mib: Option<u64>) -> u64 {
    let wanted = configured_mib.map_or(MIN_PART, |m| m * MIB);
    let needed = file_size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    wanted.max(needed).max(5 * MIB)
}

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    pub bucket: String,
    pub prefix: String,
    cfg: S3Config,
}

fn md5(data: &[u8]) -> [u8; 16] {
    use md5::Digest as _;
    md5::Md5::digest(data).into()
}

impl S3Store {
    pub async fn new(cfg: &S3Config) -> Self {
        S3Store {
            client: client(cfg).await,
            bucket: cfg.bucket.clone(),
            prefix: cfg.prefix.clone(),
            cfg: cfg.clone(),
        }
    }

    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn sse(&self) -> Option<aws_sdk_s3::types::ServerSideEncryption> {
        self.cfg.sse.as_deref().map(aws_sdk_s3::types::ServerSideEncryption::from)
    }

    fn storage_class(&self) -> Option<aws_sdk_s3::types::StorageClass> {
        self.cfg.storage_class.as_deref().map(aws_sdk_s3::types::StorageClass::from)
    }

    /// A small object (sidecar, manifest): always the default storage class, so that `list`,
    /// `prune` and `restore` can read it even when archives go to GLACIER.
    pub async fn put_bytes(&self, name: &str, data: &[u8]) -> Result<(), StorageError> {
        self.put_object(name, data, None).await
    }

    async fn put_object(
        &self,
        name: &str,
        data: &[u8],
        class: Option<aws_sdk_s3::types::StorageClass>,
    ) -> Result<(), StorageError> {
        let key = self.key(name);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(aws_sdk_s3::primitives::ByteStream::from(data.to_vec()))
            .content_md5(aws_smithy_types::base64::encode(md5(data)))
            .set_server_side_encryption(self.sse())
            .set_ssekms_key_id(self.cfg.kms_key_id.clone())
            .set_storage_class(class)
            .send()
            .await
            .map_err(|e| classify(&e, &self.cfg).prefixed(&format!("upload of {key}")))?;
        Ok(())
    }

    /// Uploads bytes, then checks what S3 stored: the size, and the ETag (the MD5 of a
    /// single-part object, except with SSE-KMS).
    pub async fn put_bytes_verified(&self, name: &str, data: &[u8]) -> Result<(), StorageError> {
        self.put_bytes(name, data).await?;
        let etag = format!("\"{}\"", hex(&md5(data)));
        self.check_stored(name, data.len() as u64, &etag).await
    }

    /// What S3 holds under `name` must have `size` bytes and, where S3 computes ETags from
    /// MD5s (not with SSE-KMS), the `expected` ETag.
    async fn check_stored(
        &self,
        name: &str,
        size: u64,
        expected: &str,
    ) -> Result<(), StorageError> {
        let key = self.key(name);
        let head =
            self.client.head_object().bucket(&self.bucket).key(&key).send().await.map_err(|e| {
                classify(&e, &self.cfg).prefixed(&format!("checking the upload of {key}"))
            })?;
        if head.content_length() != Some(size as i64) {
            return Err(StorageError::new(
                StorageFault::Mismatch,
                format!("upload of {key} is {:?} bytes in S3, {size} sent", head.content_length()),
            ));
        }
        if self.cfg.sse.as_deref() != Some("aws:kms") && head.e_tag() != Some(expected) {
            return Err(StorageError::new(
                StorageFault::Mismatch,
                format!("upload of {key}: S3 reports ETag {:?}, expected {expected}", head.e_tag()),
            ));
        }
        Ok(())
    }

    /// Uploads a file; multipart above one part, aborted on any failure or on `cancel`. What
    /// S3 assembled is checked: size, and the multipart ETag (MD5 of the parts' MD5s).
    pub async fn put_file(
        &self,
        name: &str,
        path: &std::path::Path,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<(), StorageError> {
        let key = self.key(name);
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| StorageError::local("read", path, &e))?
            .len();
        let part = part_size(size, self.cfg.part_size_mib);
        if size <= part {
            let data =
                tokio::fs::read(path).await.map_err(|e| StorageError::local("read", path, &e))?;
            // An archive: s3.storage_class applies (to archives only).
            return self.put_object(name, &data, self.storage_class()).await;
        }
        let upload_id = self.create_upload(&key).await?;
        let (digests, count) =
            match self.upload_parts(&key, &upload_id, path, size, part, cancel).await {
                Ok(v) => v,
                Err(e) => {
                    self.abort(&key, &upload_id).await;
                    return Err(e);
                }
            };
        self.check_stored(name, size, &format!("\"{}-{count}\"", hex(&md5(&digests)))).await
    }

    /// Sends the parts and completes the upload; returns the parts' MD5s and their count.
    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        path: &std::path::Path,
        size: u64,
        part: u64,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<(Vec<u8>, usize), StorageError> {
        use tokio::io::AsyncReadExt as _;
        let local_err = |e: std::io::Error| StorageError::local("read", path, &e);
        let mut file = tokio::fs::File::open(path).await.map_err(local_err)?;
        let mut parts = Vec::new();
        let mut digests = Vec::new();
        let mut sent = 0u64;
        while sent < size {
            if cancel.is_cancelled() {
                return Err(StorageError::new(
                    StorageFault::Interrupted,
                    format!("upload of {key} interrupted"),
                ));
            }
            let number = parts.len() as i32 + 1;
            let len = part.min(size - sent) as usize;
            let mut buf = vec![0u8; len];
            file.read_exact(&mut buf).await.map_err(local_err)?;
            let (part, digest) = self.upload_part(key, upload_id, number, buf).await?;
            parts.push(part);
            digests.extend_from_slice(&digest);
            sent += len as u64;
        }
        let count = parts.len();
        self.complete_upload(key, upload_id, parts).await?;
        Ok((digests, count))
    }

    /// Starts a multipart upload of an archive; returns its id.
    async fn create_upload(&self, key: &str) -> Result<String, StorageError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type(key))
            .set_server_side_encryption(self.sse())
            .set_ssekms_key_id(self.cfg.kms_key_id.clone())
            .set_storage_class(self.storage_class())
            .send()
            .await
            .map_err(|e| classify(&e, &self.cfg).prefixed(&format!("upload of {key}")))?;
        Ok(created.upload_id().unwrap_or_default().to_owned())
    }

    /// Sends one part with its Content-MD5; returns it for the completion and its MD5.
    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        data: Vec<u8>,
    ) -> Result<(aws_sdk_s3::types::CompletedPart, [u8; 16]), StorageError> {
        let digest = md5(&data);
        let r = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .content_md5(aws_smithy_types::base64::encode(digest))
            .body(aws_sdk_s3::primitives::ByteStream::from(data))
            .send()
            .await
            .map_err(|e| {
                classify(&e, &self.cfg).prefixed(&format!("upload of {key} part {number}"))
            })?;
        let part = aws_sdk_s3::types::CompletedPart::builder()
            .set_e_tag(r.e_tag().map(str::to_owned))
            .part_number(number)
            .build();
        Ok((part, digest))
    }

    async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<aws_sdk_s3::types::CompletedPart>,
    ) -> Result<(), StorageError> {
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                aws_sdk_s3::types::CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                classify(&e, &self.cfg).prefixed(&format!("completing the upload of {key}"))
            })?;
        Ok(())
    }

    async fn abort(&self, key: &str, upload_id: &str) {
        let abort = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(a) = abort {
            tracing::warn!(
                "could not abort the multipart upload of {key} (the bucket's lifecycle rule must clean it): {a}"
            );
        }
    }

    pub async fn get_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let key = self.key(name);
        match self.client.get_object().bucket(&self.bucket).key(&key).send().await {
            Ok(out) => {
                let data = out.body.collect().await.map_err(|e| {
                    StorageError::new(
                        StorageFault::Unreachable,
                        format!("download of {key} failed: {e}"),
                    )
                })?;
                Ok(Some(data.into_bytes().to_vec()))
            }
            Err(SdkError::ServiceError(se)) if se.err().is_no_such_key() => Ok(None),
            Err(e) => Err(classify(&e, &self.cfg).prefixed(&format!("download of {key}"))),
        }
    }

    /// A blocking reader streaming the object; use it from a blocking thread.
    pub async fn reader(&self, name: &str) -> Result<Box<dyn std::io::Read + Send>, StorageError> {
        let key = self.key(name);
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| classify(&e, &self.cfg).prefixed(&format!("download of {key}")))?;
        let reader = out.body.into_async_read();
        Ok(Box::new(tokio_util::io::SyncIoBridge::new(reader)))
    }

    /// Every object under `<prefix><under>`, at any depth, as names relative to the prefix
    /// (cleanup archives live in such "folders").
    pub async fn list_under(&self, under: &str) -> Result<Vec<String>, StorageError> {
        let mut out = Vec::new();
        let full = format!("{}{under}", self.prefix);
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&e, &self.cfg).prefixed("listing the bucket"))?;
            for o in page.contents() {
                if let Some(name) = o.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                    out.push(name.to_owned());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    pub async fn list(&self) -> Result<Vec<super::ObjectInfo>, StorageError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&e, &self.cfg).prefixed("listing the bucket"))?;
            for o in page.contents() {
                let Some(name) = o.key().and_then(|k| k.strip_prefix(&self.prefix)) else {
                    continue;
                };
                // Objects in "subfolders" of the prefix are not ours.
                if name.is_empty() || name.contains('/') {
                    continue;
                }
                out.push(super::ObjectInfo {
                    name: name.to_owned(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub async fn delete(&self, names: &[String]) -> Result<(), StorageError> {
        for n in names {
            let key = self.key(n);
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| classify(&e, &self.cfg).prefixed(&format!("deleting {key}")))?;
        }
        Ok(())
    }

    /// Server-side encryption S3 reports for an object (for tests and `list`).
    pub async fn encryption_of(&self, name: &str) -> Result<Option<String>, StorageError> {
        let key = self.key(name);
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| classify(&e, &self.cfg).prefixed(&format!("checking {key}")))?;
        Ok(head.server_side_encryption().map(|s| s.as_str().to_owned()))
    }
}

/// A multipart upload fed by a blocking writer (`std::io::Write`), for streams of unknown
/// size (`backup.format: archive` with `keep_local: false`). Parts are buffered and sent as
/// they fill, one at a time, so memory holds one part. Part sizes start at the configured size
/// (default 16 MiB, at least 8 MiB) and double every 1,000 parts (capped at 4 GiB), so that
/// 10,000 parts hold more than 5 TiB (7.8 TiB from 8 MiB). `finish` sends the last part, completes the upload and
/// checks what S3 assembled; dropping the writer unfinished (an error, a signal) aborts the
/// upload, so nothing incomplete stays under the key.
///
/// Use it from a blocking thread (it waits on the runtime for each part).
pub struct S3StreamWriter {
    store: S3Store,
    name: String,
    key: String,
    upload_id: String,
    handle: tokio::runtime::Handle,
    cancel: tokio_util::sync::CancellationToken,
    first_part: u64,
    buf: Vec<u8>,
    parts: Vec<aws_sdk_s3::types::CompletedPart>,
    digests: Vec<u8>,
    size: u64,
    done: bool,
}

impl std::fmt::Debug for S3StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3StreamWriter")
            .field("key", &self.key)
            .field("parts", &self.parts.len())
            .finish_non_exhaustive()
    }
}

/// The size of part `index` (from 0) of a stream: `first`, doubled every 1,000 parts.
pub fn stream_part_size(first: u64, index: usize) -> u64 {
    let doublings = (index / 1000).min(20) as u32;
    first.saturating_mul(1 << doublings).min(4096 * MIB)
}

impl S3Store {
    /// Starts a streaming upload of `name`.
    pub async fn stream_writer(
        &self,
        name: &str,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<S3StreamWriter, StorageError> {
        let key = self.key(name);
        let upload_id = self.create_upload(&key).await?;
        // At least 8 MiB: 10,000 parts of sizes doubling every 1,000 then hold 7.8 TiB.
        let first_part = self.cfg.part_size_mib.map_or(MIN_PART, |m| m * MIB).max(8 * MIB);
        Ok(S3StreamWriter {
            store: self.clone(),
            name: name.to_owned(),
            key,
            upload_id,
            handle: tokio::runtime::Handle::current(),
            cancel: cancel.clone(),
            first_part,
            buf: Vec::new(),
            parts: Vec::new(),
            digests: Vec::new(),
            size: 0,
            done: false,
        })
    }
}

impl S3StreamWriter {
    fn current_part_size(&self) -> usize {
        stream_part_size(self.first_part, self.parts.len()) as usize
    }

    fn send_part(&mut self, len: usize) -> Result<(), StorageError> {
        if self.cancel.is_cancelled() {
            return Err(StorageError::new(
                StorageFault::Interrupted,
                format!("upload of {} interrupted", self.key),
            ));
        }
        let data: Vec<u8> = self.buf.drain(..len).collect();
        let number = self.parts.len() as i32 + 1;
        let (part, digest) = self.handle.block_on(self.store.upload_part(
            &self.key,
            &self.upload_id,
            number,
            data,
        ))?;
        self.parts.push(part);
        self.digests.extend_from_slice(&digest);
        self.size += len as u64;
        Ok(())
    }

    /// Sends what is buffered as the last part, completes the upload and checks its size and
    /// ETag in S3. Returns the object's size.
    pub fn finish(mut self) -> Result<u64, StorageError> {
        let rest = self.buf.len();
        if rest > 0 || self.parts.is_empty() {
            self.send_part(rest)?;
        }
        let s = self.store.clone();
        let parts = std::mem::take(&mut self.parts);
        let count = parts.len();
        self.handle.block_on(s.complete_upload(&self.key, &self.upload_id, parts))?;
        self.done = true;
        let etag = format!("\"{}-{count}\"", hex(&md5(&self.digests)));
        self.handle.block_on(s.check_stored(&self.name, self.size, &etag))?;
        Ok(self.size)
    }
}

impl std::io::Write for S3StreamWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        while self.buf.len() >= self.current_part_size() {
            let len = self.current_part_size();
            self.send_part(len).map_err(std::io::Error::other)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for S3StreamWriter {
    fn drop(&mut self) {
        if !self.done {
            let (store, key, id) = (self.store.clone(), self.key.clone(), self.upload_id.clone());
            let handle = self.handle.clone();
            // On a thread of its own: the writer may be dropped on a runtime thread, where
            // blocking on the runtime is not allowed.
            let _ = std::thread::spawn(move || {
                handle.block_on(async move { store.abort(&key, &id).await });
            })
            .join();
        }
    }
}

#[cfg(test)]
mod tests {
    /// An uploaded archive says what it is: gzip, zstd, or (age) opaque bytes.
    #[test]
    fn archives_are_labelled_by_their_codec() {
        let labels: Vec<&str> = [
            "d-1.tar.gz",
            "d-1.archive.gz",
            "d-1.tar.zst",
            "d-1.tar.gz.age",
            "d-1.tar.zst.age",
            "d-1.manifest.json",
        ]
        .iter()
        .map(|n| super::content_type(n))
        .collect();
        let (gz, zst, bytes) = ("application/gzip", "application/zstd", "application/octet-stream");
        assert_eq!(labels, [gz, gz, zst, bytes, bytes, bytes]);
    }

    #[test]
    fn streamed_parts_cover_5_tib_in_10000_parts_within_s3_limits() {
        for first in [8 * MIB, 16 * MIB] {
            let sizes: Vec<u64> = (0..10_000).map(|i| super::stream_part_size(first, i)).collect();
            let total: u64 = sizes.iter().sum();
            assert!(total >= 5 * 1024 * 1024 * MIB, "{first}: {total}");
            assert!(sizes.iter().all(|s| (5 * MIB..=5 * 1024 * MIB).contains(s)));
            assert!(sizes.windows(2).all(|w| w[0] <= w[1]));
        }
        assert_eq!(
            super::stream_part_size(16 * MIB, 999),
            16 * MIB,
            "1,000 parts at the start size"
        );
    }

    use super::*;

    #[test]
    fn part_size_lets_10000_parts_hold_the_file() {
        assert_eq!(part_size(1, None), 16 * MIB);
        assert_eq!(part_size(100 * 1024 * MIB, None), 16 * MIB);
        // 1 TiB needs > 104 MiB parts.
        let tib = 1024 * 1024 * MIB;
        let p = part_size(tib, None);
        assert!(p * 10_000 >= tib && p.is_multiple_of(MIB) && p < 106 * MIB, "{p}");
        assert_eq!(part_size(1, Some(5)), 5 * MIB);
        assert_eq!(part_size(tib, Some(5)), p);
    }
}
