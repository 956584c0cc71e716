//! The callback from a program advisor and the résumé review around it.

use bytes::Bytes;
use jiff::civil::Date;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use turnout_domain::ConsultationStatus;
use turnout_domain::resume::{ResumeKind, display_name, sniff};
use turnout_domain::token::sha256_hex;
use turnout_store::{
    Consultation, ConsultationError, ConsultationOutcome, ConsultationUpdate, LeadKey, NewConsultation, NewResume,
    NewReview, ReassignError, Reassignment, ResumeReviews, StoreError,
};
use uuid::Uuid;

use crate::{Turnout, now};

/// A résumé as it arrived: its bytes and the file name the client gave.
pub struct UploadedResume {
    pub consultation_id: Uuid,
    pub bytes: Bytes,
    pub client_name: Option<String>,
}

/// A résumé kept, and whether it replaced an earlier one.
pub struct StoredResume {
    pub resume: NewResume,
    pub replaced: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// Neither a PDF nor a DOCX, judged by the bytes.
    #[error("the file is neither a PDF nor a DOCX")]
    UnsupportedType,
    #[error("the file could not be stored")]
    Files(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Turnout {
    /// Step 3: a callback in a window, with an advisor assigned at once.
    /// The same lead asking again gets its consultation back.
    pub async fn request_callback(
        &self,
        lead: LeadKey,
        date: Date,
        window_key: String,
    ) -> Result<ConsultationOutcome, ConsultationError> {
        let new = NewConsultation {
            id: Uuid::now_v7(),
            lead,
            window_key,
            date,
            now: now(),
        };
        let outcome = self.store.create_consultation(&new).await;
        let label = match &outcome {
            Ok(ConsultationOutcome::Created(_)) => "created",
            Ok(ConsultationOutcome::Existing(_)) => "existing",
            Err(ConsultationError::WindowFull) => "window_full",
            Err(ConsultationError::Store(_)) => "error",
            Err(_) => "invalid",
        };
        metrics::counter!("turnout_consultations_total", "outcome" => label).increment(1);
        outcome
    }

    /// Keeps a visitor's résumé for their consultation (the caller checked
    /// their lead token): typed from its bytes, stored under its hash, and
    /// recorded; a new upload replaces the previous one and deletes its
    /// file, and a file nothing points at is never left behind.
    pub async fn store_resume(&self, upload: UploadedResume) -> Result<StoredResume, ResumeError> {
        let UploadedResume {
            consultation_id,
            bytes,
            client_name,
        } = upload;
        // Typing and hashing (a DOCX is unzipped) is CPU work: off the executor.
        let (bytes, kind, sha256) = tokio::task::spawn_blocking(move || {
            let kind = sniff(&bytes);
            let sha256 = sha256_hex(&bytes);
            (bytes, kind, sha256)
        })
        .await
        .map_err(|error| ResumeError::Files(Box::new(error)))?;
        let kind: ResumeKind = kind.ok_or(ResumeError::UnsupportedType)?;
        let object_key = format!("resumes/{consultation_id}/{sha256}.{}", kind.extension());
        let resume = NewResume {
            consultation_id,
            object_key: object_key.clone(),
            sha256,
            size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            content_type: kind.content_type().to_owned(),
            display_name: display_name(client_name.as_deref(), kind),
            uploaded_at: now(),
        };
        let location = ObjectPath::from(object_key.as_str());
        self.uploads
            .put(&location, PutPayload::from_bytes(bytes))
            .await
            .map_err(|error| ResumeError::Files(Box::new(error)))?;
        let replaced = match self.store.replace_resume(&resume).await {
            Ok(replaced) => replaced,
            Err(error) => {
                // Nothing may point at the file: remove it rather than orphan it.
                let _ = self.uploads.delete(&location).await;
                return Err(error.into());
            }
        };
        if let Some(previous) = replaced.as_deref().filter(|previous| *previous != object_key)
            && let Err(error) = self.uploads.delete(&ObjectPath::from(previous)).await
        {
            tracing::warn!(%error, previous, "could not delete a replaced résumé");
        }
        metrics::counter!("turnout_resumes_total").increment(1);
        Ok(StoredResume {
            resume,
            replaced: replaced.is_some(),
        })
    }

    /// An advisor records how a call of theirs went.
    pub async fn report_call(&self, update: &ConsultationUpdate) -> Result<ConsultationStatus, StoreError> {
        self.store.update_consultation(update).await
    }

    /// The visitor cancels the call they asked for, from the manage page of
    /// a registration made with the same lead; the advisor's room in the
    /// window is given back. Answers whether there was a call to cancel.
    pub async fn cancel_callback(&self, key: &turnout_store::ManageKey) -> Result<bool, StoreError> {
        let cancelled = self.store.cancel_consultation(key, now()).await?.is_some();
        if cancelled {
            metrics::counter!("turnout_consultations_total", "outcome" => "cancelled").increment(1);
        }
        Ok(cancelled)
    }

    /// An admin hands a consultation to another advisor with room in the
    /// window.
    pub async fn reassign(&self, reassignment: &Reassignment) -> Result<Consultation, ReassignError> {
        self.store.reassign_consultation(reassignment).await
    }

    /// An advisor comments on a résumé or moves its review along; `None`
    /// when the consultation is not theirs or has no résumé.
    pub async fn review_resume(&self, review: &NewReview) -> Result<Option<ResumeReviews>, StoreError> {
        self.store.review_resume(review).await
    }
}
