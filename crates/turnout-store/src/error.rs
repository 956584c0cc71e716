use thiserror::Error;

/// What can go wrong in any storage call.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A constraint refused the change; the name says which.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// The database could not be reached or timed out; retrying may help.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Other(error.into())
    }
}

#[derive(Debug, Error)]
pub enum WebinarError {
    #[error("no webinar has that slug")]
    NotFound,
    #[error("a webinar with that slug exists")]
    SlugTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum ArticleError {
    #[error("no article has that slug")]
    NotFound,
    #[error("an article with that slug exists")]
    SlugTaken,
    #[error("no webinar has that slug")]
    UnknownWebinar,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum SlotError {
    #[error("no webinar has that slug")]
    WebinarNotFound,
    #[error("no such slot")]
    NotFound,
    #[error("a slot of this webinar already starts at that instant")]
    Duplicate,
    #[error("capacity {capacity} is below the {seats_taken} seats taken")]
    CapacityBelowSeatsTaken { capacity: i64, seats_taken: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum LeadError {
    #[error("no published webinar has that slug")]
    WebinarNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum RegistrationError {
    /// The lead does not exist or its token does not match.
    #[error("no lead matches that id and token")]
    LeadNotFound,
    /// An inline lead names a webinar that is not published.
    #[error("no published webinar has that slug")]
    WebinarNotFound,
    #[error("no such slot")]
    SlotNotFound,
    #[error("the slot belongs to another webinar")]
    SlotInOtherWebinar,
    /// Closed by an organiser, already started, or its webinar unpublished.
    #[error("the slot no longer takes registrations")]
    SlotClosed,
    #[error("the slot is full")]
    SlotFull,
    /// No registration matches that id and manage token.
    #[error("no such registration")]
    NotFound,
    /// Only a confirmed registration can be rescheduled.
    #[error("the registration is {0}")]
    NotConfirmed(turnout_domain::RegistrationStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum AdvisorError {
    #[error("no such advisor")]
    NotFound,
    #[error("an advisor with that email exists")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum ConsultationError {
    /// The lead does not exist or its token does not match.
    #[error("no lead matches that id and token")]
    LeadNotFound,
    /// No window has that key.
    #[error("no callback window has that key")]
    UnknownWindow,
    /// The window has started or is beyond the days on offer.
    #[error("the window is not on offer")]
    WindowNotOffered,
    /// Every advisor covering the window is at capacity.
    #[error("the window is full")]
    WindowFull,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum ReassignError {
    #[error("no such consultation")]
    NotFound,
    #[error("no such advisor")]
    AdvisorNotFound,
    /// The advisor's weekly hours do not cover the whole window.
    #[error("the advisor does not work during the window")]
    NotCovering,
    #[error("the advisor has no room in the window")]
    AdvisorFull,
    #[error(transparent)]
    Store(#[from] StoreError),
}
