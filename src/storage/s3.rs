//! S3 client from the config: region, custom endpoint, path style, retries, and checksum
//! calculation only when required (DESIGN §6: third-party servers mishandle the SDK default).
//!
//! Credentials come from the AWS SDK's standard chain, never from the config file.

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata as _, SdkError};

use crate::config::S3Config;
use crate::error::CliError;

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
pub async fn probe(client: &Client, cfg: &S3Config) -> Result<(), CliError> {
    client.head_bucket().bucket(&cfg.bucket).send().await.map(|_| ()).map_err(|e| classify(&e, cfg))
}

pub fn classify<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug>(
    e: &SdkError<E, HttpResponse>,
    cfg: &S3Config,
) -> CliError {
    let where_ = match &cfg.endpoint {
        Some(ep) => format!("s3://{} at {ep}", cfg.bucket),
        None => format!("s3://{}", cfg.bucket),
    };
    match e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            CliError::unreachable(format!("cannot reach S3 for {where_}"))
                .with_hint("check s3.endpoint, the network, and that the S3 service runs")
        }
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = e.code().unwrap_or("");
            match (status, code) {
                (403, _) | (_, "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied") => {
                    CliError::unreachable(format!(
                        "S3 refused the credentials for {where_} ({status} {code})"
                    ))
                    .with_hint(
                        "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile/role in use",
                    )
                }
                (404, _) | (_, "NoSuchBucket") => {
                    CliError::unreachable(format!("S3 bucket {where_} does not exist"))
                        .with_hint("create the bucket or fix s3.bucket")
                }
                _ => CliError::unreachable(format!(
                    "S3 error for {where_}: {status} {code} {}",
                    e.message().unwrap_or("")
                )),
            }
        }
        other => {
            CliError::unreachable(format!("S3 request for {where_} failed: {}", short_debug(other)))
        }
    }
}

fn short_debug(e: &impl std::fmt::Debug) -> String {
    let text = format!("{e:?}");
    text.chars().take(300).collect()
}
