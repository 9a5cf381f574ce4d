//! Where archives live: the local directory and S3.
pub mod s3;
