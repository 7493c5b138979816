//! Plan artifacts in S3: `s3://<bucket>/<prefix>/<repo>/pr-<n>/<commit>/<unit>/<file>`, written
//! with Slipway's own identity (the artifact bucket is Slipway's, not a managed account's).
//! The manifest is written last and read first, so a reader never takes half a plan.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

use super::{
    ArtifactKey, ArtifactStore, Manifest, PlanArtifacts, StoreError, StoredPlan, APPLIED, LOG_FILE,
    MANIFEST, PLAN_FILE, PLAN_JSON,
};

/// Artifacts in an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl S3Store {
    /// A store in `bucket` under `prefix` (may be empty).
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, prefix: &str) -> S3Store {
        S3Store {
            client,
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        }
    }

    fn object(&self, key: &ArtifactKey, file: &str) -> Result<String, StoreError> {
        let path = key.path()?;
        Ok(if self.prefix.is_empty() {
            format!("{path}/{file}")
        } else {
            format!("{}/{path}/{file}", self.prefix)
        })
    }

    fn io(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            store: self.location(),
            message: format!("{what}: {e}"),
        }
    }

    async fn put_object(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| self.io(key, aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        Ok(())
    }

    async fn get_object(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let body = out.body.collect().await.map_err(|e| self.io(key, e))?;
                Ok(Some(body.into_bytes().to_vec()))
            }
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(self.io(key, aws_sdk_s3::error::DisplayErrorContext(&e))),
        }
    }
}

#[async_trait::async_trait]
impl ArtifactStore for S3Store {
    async fn put(
        &self,
        key: &ArtifactKey,
        artifacts: &PlanArtifacts,
        engine: &str,
    ) -> Result<Manifest, StoreError> {
        let manifest = Manifest::new(key, artifacts, engine);
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| self.io(MANIFEST, e))?;
        // A new plan has not been applied: the old marker goes before anything else.
        for old in [MANIFEST, APPLIED] {
            let k = self.object(key, old)?;
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(&k)
                .send()
                .await
                .map_err(|e| self.io(&k, aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        }
        self.put_object(&self.object(key, PLAN_FILE)?, artifacts.plan_file.clone())
            .await?;
        self.put_object(&self.object(key, PLAN_JSON)?, artifacts.plan_json.clone())
            .await?;
        self.put_object(
            &self.object(key, LOG_FILE)?,
            artifacts.log.as_bytes().to_vec(),
        )
        .await?;
        self.put_object(&self.object(key, MANIFEST)?, json).await?;
        Ok(manifest)
    }

    async fn get(&self, key: &ArtifactKey) -> Result<Option<StoredPlan>, StoreError> {
        let mkey = self.object(key, MANIFEST)?;
        let Some(manifest) = self.get_object(&mkey).await? else {
            return Ok(None);
        };
        let manifest: Manifest =
            serde_json::from_slice(&manifest).map_err(|e| self.io(&mkey, e))?;
        let plan_file = self
            .get_object(&self.object(key, PLAN_FILE)?)
            .await?
            .unwrap_or_default();
        let plan_json = self
            .get_object(&self.object(key, PLAN_JSON)?)
            .await?
            .unwrap_or_default();
        let log = self
            .get_object(&self.object(key, LOG_FILE)?)
            .await?
            .unwrap_or_default();
        let applied = self.get_object(&self.object(key, APPLIED)?).await?;
        Ok(Some(StoredPlan {
            manifest,
            artifacts: PlanArtifacts {
                plan_file,
                plan_json,
                log: String::from_utf8_lossy(&log).into_owned(),
            },
            applied_sha256: applied.map(|a| String::from_utf8_lossy(&a).trim().to_string()),
        }))
    }

    async fn mark_applied(&self, key: &ArtifactKey, sha256: &str) -> Result<(), StoreError> {
        self.put_object(&self.object(key, APPLIED)?, sha256.as_bytes().to_vec())
            .await
    }

    fn location(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}
