//! Where uploaded files live: a folder on this machine by default, or an
//! S3-compatible bucket shared by every instance.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;

/// An S3-compatible bucket. Credentials not given here come from the usual
/// `AWS_*` environment variables (or the instance's role).
#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// For S3-compatible services (MinIO, R2, …); AWS itself when absent.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "<set>"))
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A bucket as the upload store.
pub fn s3(settings: &S3Settings) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(&settings.bucket);
    if let Some(endpoint) = &settings.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    if let Some(region) = &settings.region {
        builder = builder.with_region(region);
    }
    if let Some(key) = &settings.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &settings.secret_access_key {
        builder = builder.with_secret_access_key(secret);
    }
    Ok(Arc::new(builder.build()?))
}

/// A folder (created if missing) as the upload store.
pub fn local(dir: &Path) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    std::fs::create_dir_all(dir).map_err(|source| object_store::Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(source),
    })?;
    Ok(Arc::new(LocalFileSystem::new_with_prefix(dir)?))
}
