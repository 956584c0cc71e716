//! SQL that SQLite and PostgreSQL both accept, written once. Placeholders
//! are `$n`; instants are bound in each backend's own representation.
//! Column lists are fixed so that each backend decodes rows by position.

macro_rules! webinar_columns {
    () => {
        "w.id, w.slug, w.title, w.summary, w.time_zone, w.duration_minutes, \
         w.hosts, w.highlights, w.status, w.created_at, w.updated_at"
    };
}

/// The same columns unqualified, for `RETURNING` (SQLite does not accept
/// a table alias there).
macro_rules! webinar_returning {
    () => {
        "id, slug, title, summary, time_zone, duration_minutes, hosts, highlights, status, created_at, updated_at"
    };
}

macro_rules! slot_returning {
    () => {
        "id, webinar_id, starts_at, capacity, seats_taken, status"
    };
}

macro_rules! slot_columns {
    () => {
        "s.id, s.webinar_id, s.starts_at, s.capacity, s.seats_taken, s.status"
    };
}

/// Number of columns in `webinar_columns!`, where a slot's columns start.
pub const WEBINAR_COLUMN_COUNT: usize = 11;

pub const PING: &str = "SELECT 1";

pub const INSERT_WEBINAR: &str = concat!(
    "INSERT INTO webinars (slug, title, summary, time_zone, duration_minutes, hosts, highlights, \
     status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ",
    webinar_returning!()
);

/// A partial update in one statement: a NULL parameter keeps the column.
pub const UPDATE_WEBINAR: &str = concat!(
    "UPDATE webinars SET title = COALESCE($2, title), summary = COALESCE($3, summary), \
     time_zone = COALESCE($4, time_zone), duration_minutes = COALESCE($5, duration_minutes), \
     hosts = COALESCE($6, hosts), highlights = COALESCE($7, highlights), status = COALESCE($8, status), \
     updated_at = $9 WHERE slug = $1 RETURNING ",
    webinar_returning!()
);

pub const FIND_WEBINAR: &str = concat!("SELECT ", webinar_columns!(), " FROM webinars w WHERE w.slug = $1");

pub const LIST_WEBINARS: &str = concat!("SELECT ", webinar_columns!(), " FROM webinars w ORDER BY w.slug");

/// Published webinars, each with its confirmed registrations and its next
/// bookable slot after `$1` (columns NULL when there is none).
pub const LIST_PUBLISHED_WEBINARS: &str = concat!(
    "SELECT ",
    webinar_columns!(),
    ", (SELECT COUNT(*) FROM registrations r WHERE r.webinar_id = w.id AND r.status = 'confirmed'), ",
    slot_columns!(),
    " FROM webinars w LEFT JOIN slots s ON s.id = (\
        SELECT n.id FROM slots n WHERE n.webinar_id = w.id AND n.status = 'open' \
        AND n.starts_at > $1 AND n.seats_taken < n.capacity ORDER BY n.starts_at LIMIT 1) \
     WHERE w.status = 'published' ORDER BY w.title"
);

pub const WEBINAR_ID: &str = "SELECT id FROM webinars WHERE slug = $1";

pub const INSERT_SLOT: &str = "INSERT INTO slots (webinar_id, starts_at, capacity, seats_taken, status, \
     created_at, updated_at) VALUES ($1, $2, $3, 0, 'open', $4, $4) RETURNING id";

pub const LIST_SLOTS: &str = concat!(
    "SELECT ",
    slot_columns!(),
    " FROM slots s WHERE s.webinar_id = $1 AND s.starts_at > $2 ORDER BY s.starts_at"
);

pub const FIND_SLOT: &str = concat!("SELECT ", slot_columns!(), " FROM slots s WHERE s.id = $1");

/// A slot with what a registration needs of its webinar: columns 6 to 10
/// are the webinar's slug, title, duration, status and zone.
pub const FIND_SLOT_FOR_REGISTRATION: &str = concat!(
    "SELECT ",
    slot_columns!(),
    ", w.slug, w.title, w.duration_minutes, w.status FROM slots s \
     JOIN webinars w ON w.id = s.webinar_id WHERE s.id = $1"
);

/// Changes capacity and/or status (a NULL parameter keeps the column) unless
/// the new capacity is below the seats already taken: the check and the
/// write are one statement.
pub const UPDATE_SLOT: &str = concat!(
    "UPDATE slots SET capacity = COALESCE($2, capacity), status = COALESCE($3, status), \
     updated_at = $4 WHERE id = $1 AND seats_taken <= COALESCE($2, capacity) RETURNING ",
    slot_returning!()
);

/// Takes one seat if the slot is open, has not started, has one to spare and
/// its webinar is published, and returns the slot as it now is. Zero rows
/// means no seat was taken: the capacity decision is this one statement.
pub const TAKE_SEAT: &str = concat!(
    "UPDATE slots SET seats_taken = seats_taken + 1, updated_at = $3 \
     WHERE id = $1 AND status = 'open' AND starts_at > $2 AND seats_taken < capacity \
     AND EXISTS (SELECT 1 FROM webinars w WHERE w.id = slots.webinar_id AND w.status = 'published') \
     RETURNING ",
    slot_returning!()
);

pub const RELEASE_SEAT: &str = "UPDATE slots SET seats_taken = seats_taken - 1, updated_at = $2 WHERE id = $1";

/// Finds a person by normalised email, or records them with these details.
/// A person who exists keeps the details they have: what an unauthenticated
/// request submits belongs to its lead alone (the no-op update makes
/// `RETURNING` answer for an existing row too).
pub const UPSERT_PERSON: &str = "INSERT INTO persons (email_normalised, email, name, phone, country, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
     ON CONFLICT (email_normalised) DO UPDATE SET updated_at = persons.updated_at RETURNING id";

pub const INSERT_CONSENT: &str = "INSERT INTO consents (person_id, policy_version, policy_sha256, email, \
     sms, ip, user_agent, created_at, whatsapp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";

/// A lead with the name, address and phone the visitor gave (`$15`–`$18`).
pub const INSERT_LEAD: &str = "INSERT INTO leads (id, person_id, webinar_id, consent_id, token_hash, \
     time_zone, utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, page, created_at, \
     name, email, phone, country) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

/// The id of a published webinar by slug.
pub const PUBLISHED_WEBINAR_ID: &str = "SELECT id FROM webinars WHERE slug = $1 AND status = 'published'";

/// A lead by id and token hash: person id, webinar id, zone, and the name
/// and email given with it.
pub const FIND_LEAD: &str = "SELECT l.person_id, l.webinar_id, l.time_zone, l.name, l.email \
     FROM leads l WHERE l.id = $1 AND l.token_hash = $2";

pub const CONFIRMED_REGISTRATION_OF_PERSON: &str =
    "SELECT id FROM registrations WHERE person_id = $1 AND webinar_id = $2 AND status = 'confirmed'";

pub const INSERT_REGISTRATION: &str = "INSERT INTO registrations (id, person_id, webinar_id, slot_id, \
     lead_id, status, manage_token_hash, time_zone, sequence, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, 'confirmed', $6, $7, 0, $8, $8)";

/// A registration with the details given with its lead, its webinar and
/// slot, by id alone (the caller has already proven access) or with its
/// manage-token hash.
macro_rules! registration_select {
    () => {
        concat!(
            "SELECT r.id, r.status, r.time_zone, r.sequence, r.created_at, r.updated_at, \
             l.name, l.email, w.id, w.slug, w.title, w.duration_minutes, ",
            slot_columns!(),
            " FROM registrations r JOIN leads l ON l.id = r.lead_id \
             JOIN webinars w ON w.id = r.webinar_id JOIN slots s ON s.id = r.slot_id "
        )
    };
}

pub const FIND_REGISTRATION: &str = concat!(registration_select!(), "WHERE r.id = $1 AND r.manage_token_hash = $2");

pub const FIND_REGISTRATION_BY_ID: &str = concat!(registration_select!(), "WHERE r.id = $1");

/// Cancels a confirmed registration; zero rows when it was not confirmed
/// (or the key is wrong), so a seat is never released twice.
pub const CANCEL_REGISTRATION: &str = "UPDATE registrations SET status = 'cancelled', cancelled_at = $3, \
     updated_at = $3, sequence = sequence + 1 WHERE id = $1 AND manage_token_hash = $2 \
     AND status = 'confirmed' RETURNING slot_id";

/// Moves a registration from the slot it was read in (`$2`) to `$3`: a
/// compare-and-set, so two concurrent moves cannot both release the old seat.
/// A no-show moved to a new time is confirmed again, unsettled
/// (`RegistrationStatus::may_move`).
pub const MOVE_REGISTRATION: &str = "UPDATE registrations SET slot_id = $3, updated_at = $4, \
     sequence = sequence + 1, status = 'confirmed', attendance_source = NULL, attendance_marked_at = NULL \
     WHERE id = $1 AND slot_id = $2 AND status IN ('confirmed', 'no_show')";

macro_rules! api_token_columns {
    () => {
        "id, role, advisor_id, label, created_at, expires_at, revoked_at, last_used_at"
    };
}

pub const INSERT_API_TOKEN: &str = concat!(
    "INSERT INTO api_tokens (token_hash, role, advisor_id, label, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
    api_token_columns!()
);

/// A credential that still opens something at `$2`.
pub const FIND_API_TOKEN: &str = concat!(
    "SELECT ",
    api_token_columns!(),
    " FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
);

pub const TOUCH_API_TOKEN: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";

pub const LIST_API_TOKENS: &str = concat!("SELECT ", api_token_columns!(), " FROM api_tokens ORDER BY id");

pub const REVOKE_API_TOKEN: &str = concat!(
    "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING ",
    api_token_columns!()
);

pub const INSERT_ADVISOR: &str = "INSERT INTO advisors (name, email, time_zone, max_calls_per_window, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id";

pub const INSERT_AVAILABILITY: &str =
    "INSERT INTO advisor_availability (advisor_id, weekday, starts_local, ends_local) VALUES ($1, $2, $3, $4)";

/// Advisors by id; column 5 is `last_assigned_at`, NULL until the first call.
pub const LIST_ADVISORS: &str =
    "SELECT id, name, email, time_zone, max_calls_per_window, last_assigned_at FROM advisors ORDER BY id";

pub const LIST_AVAILABILITY: &str =
    "SELECT advisor_id, weekday, starts_local, ends_local FROM advisor_availability ORDER BY advisor_id, id";

pub const ADVISOR_ID: &str = "SELECT id FROM advisors WHERE id = $1";

pub const LIST_WINDOWS: &str = "SELECT key, name, starts_local, ends_local FROM callback_windows ORDER BY position";

pub const DELETE_WINDOWS: &str = "DELETE FROM callback_windows";

pub const INSERT_WINDOW: &str =
    "INSERT INTO callback_windows (key, name, starts_local, ends_local, position) VALUES ($1, $2, $3, $4, $5)";

pub const DAYS_AHEAD: &str = "SELECT value FROM settings WHERE key = 'consultation_days_ahead'";

pub const SET_DAYS_AHEAD: &str = "INSERT INTO settings (key, value) VALUES ('consultation_days_ahead', $1) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// Calls taken per advisor in windows starting in `[$1, $2)`.
pub const WINDOW_LOADS: &str =
    "SELECT advisor_id, window_start, taken FROM advisor_window_load WHERE window_start >= $1 AND window_start < $2";

/// Gives advisor `$1` one more call in the window starting at `$2` unless
/// they already have `$3`. No row back means no capacity: the decision is
/// this one statement.
pub const TAKE_CALL: &str = "INSERT INTO advisor_window_load (advisor_id, window_start, taken) VALUES ($1, $2, 1) \
     ON CONFLICT (advisor_id, window_start) DO UPDATE SET taken = advisor_window_load.taken + 1 \
     WHERE advisor_window_load.taken < $3 RETURNING taken";

pub const TOUCH_ADVISOR: &str = "UPDATE advisors SET last_assigned_at = $2 WHERE id = $1";

macro_rules! consultation_select {
    () => {
        "SELECT c.id, c.lead_id, c.advisor_id, a.name, c.window_key, c.window_date, c.window_label, \
         c.window_start, c.window_end, c.time_zone, c.status, c.created_at \
         FROM consultations c JOIN advisors a ON a.id = c.advisor_id "
    };
}

pub const CONSULTATION_OF_LEAD: &str = concat!(consultation_select!(), "WHERE c.lead_id = $1");

pub const FIND_CONSULTATION: &str = concat!(consultation_select!(), "WHERE c.id = $1");

/// The consultation asked for by the lead a registration was made with,
/// unless the visitor cancelled it.
pub const CONSULTATION_OF_REGISTRATION: &str = concat!(
    consultation_select!(),
    "JOIN registrations r ON r.lead_id = c.lead_id WHERE r.id = $1 AND c.cancelled_at IS NULL"
);

/// Cancels the call asked for with the lead of the registration `$1`,
/// opened with its manage token's hash `$2`; answers what the advisor's
/// window needs given back.
pub const CANCEL_CONSULTATION: &str = "UPDATE consultations SET cancelled_at = $3, updated_at = $3 \
     WHERE cancelled_at IS NULL AND lead_id = \
     (SELECT lead_id FROM registrations WHERE id = $1 AND manage_token_hash = $2) \
     RETURNING id, advisor_id, window_start, status";

/// A consultation, if the token hash is its lead's.
pub const CONSULTATION_FOR_LEAD: &str = concat!(
    consultation_select!(),
    "JOIN leads l ON l.id = c.lead_id WHERE c.id = $1 AND l.token_hash = $2"
);

pub const RESUME_KEY: &str = "SELECT object_key FROM resumes WHERE consultation_id = $1";

/// Records a résumé, replacing the consultation's previous one.
pub const UPSERT_RESUME: &str = "INSERT INTO resumes (consultation_id, object_key, sha256, size_bytes, \
     content_type, display_name, review_status, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) \
     ON CONFLICT (consultation_id) DO UPDATE SET object_key = excluded.object_key, sha256 = excluded.sha256, \
     size_bytes = excluded.size_bytes, content_type = excluded.content_type, \
     display_name = excluded.display_name, review_status = 'pending', uploaded_at = excluded.uploaded_at";

/// Consultations with the contact details given with their lead, the résumé if any and
/// the latest notes, by window start. `$1` advisor, `$2` status, `$3`/`$4`
/// window-start bounds; NULL means no filter.
pub const CONSULTATION_QUEUE: &str = "SELECT c.id, c.lead_id, c.advisor_id, a.name, c.window_key, c.window_date, \
     c.window_label, c.window_start, c.window_end, c.time_zone, c.status, c.created_at, \
     l.name, l.email, l.phone, r.display_name, r.content_type, r.size_bytes, r.review_status, \
     (SELECT e.notes FROM consultation_events e WHERE e.consultation_id = c.id AND e.notes IS NOT NULL \
      ORDER BY e.id DESC LIMIT 1) \
     FROM consultations c JOIN advisors a ON a.id = c.advisor_id JOIN leads l ON l.id = c.lead_id \
     LEFT JOIN resumes r ON r.consultation_id = c.id \
     WHERE c.cancelled_at IS NULL AND ($1 IS NULL OR c.advisor_id = $1) AND ($2 IS NULL OR c.status = $2) \
     AND ($3 IS NULL OR c.window_start >= $3) AND ($4 IS NULL OR c.window_start < $4) \
     ORDER BY c.window_start, c.id";

/// Changes a consultation's status (NULL keeps it), only if it is the
/// advisor's own; returns the status it now has.
pub const UPDATE_CONSULTATION_STATUS: &str = "UPDATE consultations SET status = COALESCE($3, status), \
     updated_at = $4 WHERE id = $1 AND advisor_id = $2 RETURNING status";

/// What a consultation's history says when the visitor cancels it.
pub const CANCELLED_BY_VISITOR: &str = "Cancelled by the visitor";

pub const INSERT_CONSULTATION_EVENT: &str = "INSERT INTO consultation_events (consultation_id, actor, status, \
     notes, created_at) VALUES ($1, $2, $3, $4, $5)";

/// The stored résumé of one of the advisor's consultations.
pub const ADVISOR_RESUME: &str = "SELECT r.object_key, r.content_type, r.display_name FROM resumes r \
     JOIN consultations c ON c.id = r.consultation_id WHERE c.id = $1 AND c.advisor_id = $2";

/// Gives back one of an advisor's calls in a window; the last one removes
/// the row (a load row never says zero).
pub const RELEASE_CALL: &str =
    "UPDATE advisor_window_load SET taken = taken - 1 WHERE advisor_id = $1 AND window_start = $2 AND taken > 1";
pub const DROP_LAST_CALL: &str =
    "DELETE FROM advisor_window_load WHERE advisor_id = $1 AND window_start = $2 AND taken = 1";

/// Moves a consultation from the advisor it was read with (`$2`) to `$3`:
/// a compare-and-set, so two concurrent moves cannot both release a call.
pub const MOVE_CONSULTATION: &str = "UPDATE consultations SET advisor_id = $3, updated_at = $4 \
     WHERE id = $1 AND advisor_id = $2 AND cancelled_at IS NULL";

/// The review status of the résumé of one of the advisor's consultations.
pub const OWN_RESUME_STATUS: &str = "SELECT r.review_status FROM resumes r \
     JOIN consultations c ON c.id = r.consultation_id WHERE c.id = $1 AND c.advisor_id = $2";

pub const SET_REVIEW_STATUS: &str = "UPDATE resumes SET review_status = $2 WHERE consultation_id = $1";

pub const INSERT_REVIEW: &str =
    "INSERT INTO resume_reviews (consultation_id, advisor_id, comment, created_at) VALUES ($1, $2, $3, $4)";

pub const LIST_REVIEWS: &str = "SELECT v.advisor_id, a.name, v.comment, v.created_at FROM resume_reviews v \
     JOIN advisors a ON a.id = v.advisor_id WHERE v.consultation_id = $1 ORDER BY v.id";

/// Records an event for delivery, in the transaction of its change.
pub const INSERT_OUTBOX: &str =
    "INSERT INTO outbox (event_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4)";

macro_rules! event_columns {
    () => {
        "id, event_id, event_type, payload, created_at, routed_at"
    };
}

/// Events, oldest first; `$1` type filter when not NULL.
pub const LIST_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM outbox WHERE ($1 IS NULL OR event_type = $1) ORDER BY id LIMIT $2"
);

/// Events no worker has routed yet, oldest first (SQLite).
pub const UNROUTED_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM outbox WHERE routed_at IS NULL ORDER BY id LIMIT $1"
);

/// The same, locked, skipping events another worker is routing (PostgreSQL).
pub const UNROUTED_EVENTS_LOCKED: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM outbox WHERE routed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
);

pub const MARK_ROUTED: &str = "UPDATE outbox SET routed_at = $2 WHERE id = $1";

pub const INSERT_DELIVERY: &str = "INSERT INTO deliveries (message_id, event_id, channel, kind, recipient, \
     endpoint_id, status, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) \
     ON CONFLICT (event_id, channel, kind, recipient) DO NOTHING";

macro_rules! due_deliveries {
    () => {
        "SELECT id FROM deliveries \
         WHERE status IN ('pending', 'sending', 'failed') AND next_attempt_at <= $1 \
         AND (endpoint_id IS NULL OR endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled)) \
         ORDER BY next_attempt_at LIMIT $2"
    };
}

/// Many deliveries in one statement (PostgreSQL arrays).
pub const INSERT_DELIVERIES: &str = "INSERT INTO deliveries (message_id, event_id, channel, kind, recipient, \
     endpoint_id, status, next_attempt_at, created_at) \
     SELECT m, e, c, k, r, p, 'pending', d, $8 \
     FROM UNNEST($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::timestamptz[]) \
     AS x (m, e, c, k, r, p, d) ON CONFLICT (event_id, channel, kind, recipient) DO NOTHING";

/// Marks many events routed (PostgreSQL arrays).
pub const MARK_ALL_ROUTED: &str = "UPDATE outbox SET routed_at = $2 WHERE id = ANY($1)";

/// Due deliveries, first due first: `$1` now. Endpoints that are disabled
/// hold theirs back.
pub const DUE_DELIVERIES: &str = due_deliveries!();

/// Claims the due deliveries no other worker holds until `$3` (PostgreSQL);
/// the claim count is each claim's fence.
pub const CLAIM_DUE_DELIVERIES: &str = concat!(
    "WITH due AS (",
    due_deliveries!(),
    " FOR UPDATE SKIP LOCKED) UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1, \
     claims = d.claims + 1, next_attempt_at = $3 FROM due WHERE d.id = due.id RETURNING d.id"
);

/// Claims one delivery until `$2`; the claim count is the claim's fence.
pub const CLAIM_DELIVERY: &str = "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, \
     claims = claims + 1, next_attempt_at = $2 WHERE id = $1";

macro_rules! claimed_delivery {
    () => {
        "SELECT d.id, d.message_id, d.channel, d.kind, d.recipient, d.attempts, \
         o.id, o.event_id, o.event_type, o.payload, o.created_at, o.routed_at, \
         w.id, w.url, w.description, w.event_types, w.secret, w.enabled, w.consecutive_failures, \
         w.disabled_reason, w.created_at, w.updated_at, d.claims \
         FROM deliveries d JOIN outbox o ON o.id = d.event_id \
         LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id"
    };
}

/// A claimed delivery with its event and endpoint.
pub const CLAIMED_DELIVERY: &str = concat!(claimed_delivery!(), " WHERE d.id = $1");

/// Claimed deliveries by id (PostgreSQL arrays).
pub const CLAIMED_DELIVERIES: &str = concat!(claimed_delivery!(), " WHERE d.id = ANY($1) ORDER BY d.next_attempt_at");

/// Records an outcome (`$3` status, `$4` next attempt, `$5` error, `$6`
/// sent at) if the delivery is still on the claim numbered `$2`.
pub const FINISH_DELIVERY: &str = "UPDATE deliveries SET status = $3, next_attempt_at = $4, last_error = $5, \
     sent_at = $6, attempts = attempts - $7 WHERE id = $1 AND claims = $2 AND status = 'sending'";

/// Many outcomes in one statement (PostgreSQL arrays); returns the ids
/// whose claim still held.
pub const FINISH_DELIVERIES: &str = "UPDATE deliveries d SET status = u.status, next_attempt_at = u.next, \
     last_error = u.error, sent_at = u.sent, attempts = d.attempts - u.returned \
     FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::timestamptz[], \
     $7::bigint[]) AS u (id, claim, status, next, error, sent, returned) \
     WHERE d.id = u.id AND d.claims = u.claim AND d.status = 'sending' RETURNING d.id";

pub const ENDPOINT_SUCCEEDED: &str =
    "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0";

/// Counts a failure; the `$2`th in a row disables the endpoint.
pub const ENDPOINT_FAILED: &str = "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, \
     enabled = CASE WHEN consecutive_failures + 1 >= $2 THEN FALSE ELSE enabled END, \
     disabled_reason = CASE WHEN enabled AND consecutive_failures + 1 >= $2 \
     THEN $3 ELSE disabled_reason END, updated_at = $4 WHERE id = $1";

pub const NEXT_DELIVERY_DUE: &str = "SELECT MIN(next_attempt_at) FROM deliveries \
     WHERE status IN ('pending', 'sending', 'failed') \
     AND (endpoint_id IS NULL OR endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled))";

macro_rules! delivery_columns {
    () => {
        "d.message_id, o.event_id, o.event_type, d.channel, d.kind, d.recipient, \
     d.endpoint_id, d.status, d.attempts, d.next_attempt_at, d.last_error, d.created_at, d.sent_at \
     FROM deliveries d JOIN outbox o ON o.id = d.event_id"
    };
}

/// The ledger, oldest first; each filter applies when not NULL.
pub const LIST_DELIVERIES: &str = concat!(
    "SELECT ",
    delivery_columns!(),
    " WHERE ($1 IS NULL OR d.status = $1) AND ($2 IS NULL OR d.channel = $2) \
     AND ($3 IS NULL OR o.event_type = $3) AND ($4 IS NULL OR d.endpoint_id = $4) ORDER BY d.id LIMIT $5"
);

pub const FIND_DELIVERY: &str = concat!("SELECT ", delivery_columns!(), " WHERE d.message_id = $1");

pub const RETRY_DELIVERY: &str = "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, \
     last_error = NULL WHERE message_id = $1 AND status IN ('failed', 'dead')";

/// The same message for the same event on channel `$4` instead of `$3`
/// (`$2` its new message id), due at `$5`; nothing when that channel
/// already has it.
pub const HAND_OVER_DELIVERY: &str = "INSERT INTO deliveries (message_id, event_id, channel, kind, recipient, \
     endpoint_id, status, next_attempt_at, created_at) \
     SELECT $2, event_id, $4, kind, recipient, NULL, 'pending', $5, $5 FROM deliveries \
     WHERE message_id = $1 AND channel = $3 \
     ON CONFLICT (event_id, channel, kind, recipient) DO NOTHING";

/// A message the provider accepted and later reported undelivered.
pub const UNDELIVERED_AFTER_ALL: &str = "UPDATE deliveries SET status = 'skipped', last_error = $2 \
     WHERE message_id = $1 AND status = 'sent'";

pub const DELIVERY_BACKLOG: &str = "SELECT COUNT(*), MIN(next_attempt_at) FROM deliveries \
     WHERE status IN ('pending', 'sending', 'failed') AND next_attempt_at <= $1";

pub const UNROUTED_BACKLOG: &str = "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE routed_at IS NULL";

macro_rules! webhook_columns {
    () => {
        "id, url, description, event_types, secret, enabled, consecutive_failures, \
     disabled_reason, created_at, updated_at FROM webhook_endpoints"
    };
}

pub const INSERT_WEBHOOK: &str = "INSERT INTO webhook_endpoints (id, url, description, event_types, secret, \
     enabled, consecutive_failures, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, 0, $6, $6)";

pub const LIST_WEBHOOKS: &str = concat!("SELECT ", webhook_columns!(), " ORDER BY created_at, id");

pub const FIND_WEBHOOK: &str = concat!("SELECT ", webhook_columns!(), " WHERE id = $1");

/// `$5` enabled: re-enabling clears the failures; disabling by hand says so.
pub const UPDATE_WEBHOOK: &str = "UPDATE webhook_endpoints SET url = COALESCE($2, url), \
     description = COALESCE($3, description), event_types = COALESCE($4, event_types), \
     consecutive_failures = CASE WHEN $5 THEN 0 ELSE consecutive_failures END, \
     disabled_reason = CASE WHEN $5 THEN NULL WHEN NOT $5 THEN 'disabled by an admin' ELSE disabled_reason END, \
     enabled = COALESCE($5, enabled), updated_at = $6 WHERE id = $1";

/// Before deleting an endpoint: what it has not received will not be sent.
pub const SKIP_WEBHOOK_DELIVERIES: &str = "UPDATE deliveries SET status = 'skipped', \
     last_error = 'endpoint deleted' WHERE endpoint_id = $1 AND status IN ('pending', 'failed')";

pub const DELETE_WEBHOOK: &str = "DELETE FROM webhook_endpoints WHERE id = $1";

/// Failed and dead deliveries, and with `$2` every one created since then.
pub const REPLAY_WEBHOOK: &str = "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, \
     last_error = NULL WHERE endpoint_id = $1 AND status <> 'sending' \
     AND (status IN ('failed', 'dead') OR ($2 IS NOT NULL AND created_at >= $2))";

/// The contact columns of a lead `l` and its consent `c`: messages go to
/// the details given with the registration or callback they are about.
macro_rules! contact_columns {
    () => {
        "l.name, l.email, l.phone, c.email, c.sms, c.whatsapp"
    };
}

pub const REGISTRATION_CONTACT: &str = concat!(
    "SELECT r.status, r.sequence, s.starts_at, ",
    contact_columns!(),
    " FROM registrations r JOIN slots s ON s.id = r.slot_id \
     JOIN leads l ON l.id = r.lead_id JOIN consents c ON c.id = l.consent_id WHERE r.id = $1"
);

pub const CONSULTATION_CONTACT: &str = concat!(
    "SELECT ",
    contact_columns!(),
    ", a.name, a.email, a.time_zone, k.advisor_id, k.window_start FROM consultations k \
     JOIN leads l ON l.id = k.lead_id JOIN consents c ON c.id = l.consent_id \
     JOIN advisors a ON a.id = k.advisor_id WHERE k.id = $1"
);

pub const ENSURE_SETTING: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";

pub const GET_SETTING: &str = "SELECT value FROM settings WHERE key = $1";

macro_rules! article_select {
    () => {
        "SELECT a.id, a.slug, a.title, a.summary, a.body_markdown, a.body_html, a.word_count, \
         a.reading_minutes, a.contributors, a.faq, a.tags, w.slug, w.title, a.status, a.published_at, \
         a.created_at, a.updated_at FROM articles a LEFT JOIN webinars w ON w.id = a.webinar_id"
    };
}

/// `$11` the webinar's id; `$12` the status, `$13` now. The first
/// publication date is set when it is created published.
pub const INSERT_ARTICLE: &str = "INSERT INTO articles (slug, title, summary, body_markdown, body_html, \
     word_count, reading_minutes, contributors, faq, tags, webinar_id, status, published_at, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
     $11, $12, CASE WHEN $12 = 'published' THEN $13 END, $13, $13) \
     RETURNING id";

/// A partial update; `$11` true sets the webinar to the id `$12` (none
/// when NULL). Publishing for the first time sets the publication date.
pub const UPDATE_ARTICLE: &str = "UPDATE articles SET title = COALESCE($2, title), \
     summary = COALESCE($3, summary), body_markdown = COALESCE($4, body_markdown), \
     body_html = COALESCE($5, body_html), word_count = COALESCE($6, word_count), \
     reading_minutes = COALESCE($7, reading_minutes), contributors = COALESCE($8, contributors), \
     faq = COALESCE($9, faq), tags = COALESCE($10, tags), \
     webinar_id = CASE WHEN $11 THEN $12 ELSE webinar_id END, \
     status = COALESCE($13, status), \
     published_at = CASE WHEN COALESCE($13, status) = 'published' THEN COALESCE(published_at, $14) \
     ELSE published_at END, updated_at = $14 WHERE slug = $1 RETURNING id";

pub const WEBINAR_ID_BY_SLUG: &str = "SELECT id FROM webinars WHERE slug = $1";

pub const DELETE_ARTICLE_TAGS: &str = "DELETE FROM article_tags WHERE article_id = $1";

pub const INSERT_ARTICLE_TAG: &str = "INSERT INTO article_tags (article_id, tag) VALUES ($1, $2)";

pub const FIND_ARTICLE: &str = concat!(article_select!(), " WHERE a.slug = $1");

/// Published, newest first; `$1` a tag, `$2`/`$3` the cursor, when not NULL.
pub const LIST_PUBLISHED_ARTICLES: &str = concat!(
    article_select!(),
    " WHERE a.status = 'published' \
     AND ($1 IS NULL OR a.id IN (SELECT article_id FROM article_tags WHERE tag = $1)) \
     AND ($2 IS NULL OR a.published_at < $2 OR (a.published_at = $2 AND a.id < $3)) \
     ORDER BY a.published_at DESC, a.id DESC LIMIT $4"
);

pub const LIST_ALL_ARTICLES: &str = concat!(article_select!(), " ORDER BY a.updated_at DESC, a.id DESC");

pub const INSERT_CONSULTATION: &str = "INSERT INTO consultations (id, lead_id, person_id, advisor_id, window_key, \
     window_date, window_label, window_start, window_end, time_zone, status, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'assigned', $11, $11)";

/// Counts one message to recipient `$1` on day `$2` unless `$3` went out
/// already: no row back means the cap is reached. The decision is this one
/// statement, so workers racing each other cannot exceed it.
pub const TAKE_MESSAGE_ALLOWANCE: &str = "INSERT INTO recipient_allowances (recipient, day, sent) \
     VALUES ($1, $2, 1) ON CONFLICT (recipient, day) DO UPDATE SET sent = recipient_allowances.sent + 1 \
     WHERE recipient_allowances.sent < $3 RETURNING sent";

pub const PRUNE_MESSAGE_ALLOWANCES: &str = "DELETE FROM recipient_allowances WHERE day < $1";

/// The registrations an admin's filter selects: `$1` webinar slug, `$2`
/// slot, `$3` status, `$4` 'joined' or 'not_joined', `$5`/`$6` created
/// from/before, `$7` utm_source, `$8` the cursor (the last id of the page
/// before); each NULL when not asked for.
macro_rules! registrants_matching {
    () => {
        " FROM registrations r \
         JOIN webinars w ON w.id = r.webinar_id \
         JOIN slots s ON s.id = r.slot_id \
         JOIN leads l ON l.id = r.lead_id \
         LEFT JOIN registration_joins j ON j.registration_id = r.id \
         WHERE ($1 IS NULL OR w.slug = $1) \
         AND ($2 IS NULL OR r.slot_id = $2) \
         AND ($3 IS NULL OR r.status = $3) \
         AND ($4 IS NULL OR ($4 = 'joined') = (j.registration_id IS NOT NULL)) \
         AND ($5 IS NULL OR r.created_at >= $5) \
         AND ($6 IS NULL OR r.created_at < $6) \
         AND ($7 IS NULL OR l.utm_source = $7) \
         AND ($8 IS NULL OR r.id > $8)"
    };
}

/// A page of registrants in id order, `$9` rows at most. The contact
/// details are the ones given with the registration's lead (see the
/// lead_contacts migration), not whatever the person's row holds.
pub const LIST_REGISTRANTS: &str = concat!(
    "SELECT r.id, r.status, w.slug, w.title, r.slot_id, s.starts_at, l.name, l.email, l.phone, l.country, \
     r.time_zone, l.utm_source, l.utm_medium, l.utm_campaign, r.created_at, r.cancelled_at, \
     COALESCE(j.joins, 0), j.first_joined_at, j.last_joined_at",
    registrants_matching!(),
    " ORDER BY r.id LIMIT $9"
);

pub const COUNT_REGISTRANTS: &str = concat!("SELECT COUNT(*)", registrants_matching!());

/// A registration of slot `$1` by its id `$2`.
pub const FIND_ATTENDEE_BY_ID: &str = "SELECT r.id, r.status FROM registrations r WHERE r.slot_id = $1 AND r.id = $2";

/// A registration of slot `$1` by the normalised address `$2`: the one
/// that is not cancelled, when a person cancelled and registered again.
pub const FIND_ATTENDEE_BY_EMAIL: &str = "SELECT r.id, r.status FROM registrations r \
     JOIN persons p ON p.id = r.person_id WHERE r.slot_id = $1 AND p.email_normalised = $2 \
     ORDER BY CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END, r.id DESC LIMIT 1";

/// Sets registration `$1`'s attendance to `$2` unless it is cancelled or
/// already so; zero rows then.
pub const MARK_ATTENDANCE: &str = "UPDATE registrations SET status = $2, attendance_source = $3, \
     attendance_marked_at = $4, updated_at = $4 \
     WHERE id = $1 AND status IN ('confirmed', 'attended', 'no_show') AND status <> $2";

/// Registrations of slots that ended by `$1` still unsettled, `$3` at most,
/// settled from their join-link openings. The outer `status = 'confirmed'`
/// makes a second worker racing this one skip what the first settled.
pub const SETTLE_ATTENDANCE_SQLITE: &str = "UPDATE registrations SET \
     status = CASE WHEN EXISTS (SELECT 1 FROM registration_joins j WHERE j.registration_id = registrations.id) \
     THEN 'attended' ELSE 'no_show' END, \
     attendance_source = 'join_link', attendance_marked_at = $2, updated_at = $2 \
     WHERE status = 'confirmed' AND id IN (SELECT r.id FROM registrations r \
     JOIN slots s ON s.id = r.slot_id JOIN webinars w ON w.id = r.webinar_id \
     WHERE r.status = 'confirmed' AND s.starts_at + w.duration_minutes * 60000000 <= $1 ORDER BY r.id LIMIT $3) \
     RETURNING id";

/// [`SETTLE_ATTENDANCE_SQLITE`] with PostgreSQL's interval arithmetic.
pub const SETTLE_ATTENDANCE_POSTGRES: &str = "UPDATE registrations SET \
     status = CASE WHEN EXISTS (SELECT 1 FROM registration_joins j WHERE j.registration_id = registrations.id) \
     THEN 'attended' ELSE 'no_show' END, \
     attendance_source = 'join_link', attendance_marked_at = $2, updated_at = $2 \
     WHERE status = 'confirmed' AND id IN (SELECT r.id FROM registrations r \
     JOIN slots s ON s.id = r.slot_id JOIN webinars w ON w.id = r.webinar_id \
     WHERE r.status = 'confirmed' AND s.starts_at + w.duration_minutes * interval '1 minute' <= $1 \
     ORDER BY r.id LIMIT $3) \
     RETURNING id";

/// Webinar `$1`'s slots with their registrations by status.
pub const ATTENDANCE_COUNTS: &str = "SELECT s.id, s.starts_at, \
     COUNT(r.id) FILTER (WHERE r.status = 'confirmed'), COUNT(r.id) FILTER (WHERE r.status = 'attended'), \
     COUNT(r.id) FILTER (WHERE r.status = 'no_show'), COUNT(r.id) FILTER (WHERE r.status = 'cancelled') \
     FROM slots s LEFT JOIN registrations r ON r.slot_id = s.id WHERE s.webinar_id = $1 \
     GROUP BY s.id, s.starts_at ORDER BY s.starts_at";

/// Locks a slot's row for the rest of the transaction (PostgreSQL), so a
/// seat freed and a place taken on its waiting list are decided one after
/// the other. SQLite's one writer needs no lock.
pub const LOCK_SLOT_POSTGRES: &str = "SELECT id FROM slots WHERE id = $1 FOR UPDATE";

/// A new place at the end of slot `$2`'s line; no row when the person
/// already waits or holds an offer there.
pub const INSERT_WAITLIST_ENTRY: &str = "INSERT INTO waitlist_entries (id, slot_id, webinar_id, person_id, \
     lead_id, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'waiting', $6, $6) \
     ON CONFLICT (slot_id, person_id) WHERE status IN ('waiting', 'offered') DO NOTHING RETURNING id";

/// A place with its slot, its webinar, the lead's details and consent to
/// SMS, and its position in line.
macro_rules! waitlist_select {
    () => {
        "SELECT w.id, w.status, w.offered_at, w.registration_id, w.created_at, \
         s.id, s.starts_at, wb.id, wb.slug, wb.title, wb.duration_minutes, l.name, l.email, l.time_zone, \
         (SELECT COUNT(*) FROM waitlist_entries a WHERE a.slot_id = w.slot_id AND a.status = 'waiting' \
          AND a.id <= w.id), l.phone, c.sms \
         FROM waitlist_entries w JOIN slots s ON s.id = w.slot_id JOIN webinars wb ON wb.id = w.webinar_id \
         JOIN leads l ON l.id = w.lead_id JOIN consents c ON c.id = l.consent_id "
    };
}

pub const FIND_WAITLIST_ENTRY: &str = concat!(waitlist_select!(), "WHERE w.id = $1");

/// Every place on slot `$1`'s line, in order.
pub const LIST_WAITLIST: &str = concat!(waitlist_select!(), "WHERE w.slot_id = $1 ORDER BY w.id");

/// Offers slot `$1`'s freed seat to the first in line; no row when nobody
/// waits. The seat stays counted: it is theirs until the offer lapses.
pub const OFFER_NEXT_SQLITE: &str = "UPDATE waitlist_entries SET status = 'offered', offered_at = $2, \
     updated_at = $2 WHERE status = 'waiting' AND id = (SELECT id FROM waitlist_entries \
     WHERE slot_id = $1 AND status = 'waiting' ORDER BY id LIMIT 1) RETURNING id";

/// [`OFFER_NEXT_SQLITE`] where transactions run at once: a second freed
/// seat skips the place the first is offering.
pub const OFFER_NEXT_POSTGRES: &str = "UPDATE waitlist_entries SET status = 'offered', offered_at = $2, \
     updated_at = $2 WHERE status = 'waiting' AND id = (SELECT id FROM waitlist_entries \
     WHERE slot_id = $1 AND status = 'waiting' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id";

/// Declines an offer: its slot, whose seat is to pass on.
pub const DECLINE_OFFER: &str = "UPDATE waitlist_entries SET status = 'left', updated_at = $2 \
     WHERE id = $1 AND status = 'offered' RETURNING slot_id";

pub const LEAVE_WAITLIST: &str = "UPDATE waitlist_entries SET status = 'left', updated_at = $2 \
     WHERE id = $1 AND status = 'waiting'";

/// Claims offer `$1` if it was made after `$3` and its slot has not
/// started: the person and lead the registration is made for.
pub const CLAIM_OFFER: &str = "UPDATE waitlist_entries SET status = 'claimed', updated_at = $2 \
     WHERE id = $1 AND status = 'offered' AND offered_at > $3 \
     AND EXISTS (SELECT 1 FROM slots s WHERE s.id = waitlist_entries.slot_id AND s.starts_at > $2) \
     RETURNING person_id, webinar_id, slot_id, lead_id";

pub const LINK_CLAIM: &str = "UPDATE waitlist_entries SET registration_id = $2 WHERE id = $1";

/// Offers made by `$2`, or for slots started by `$1`, `$3` at most: lapsed,
/// each with the slot whose seat passes on.
pub const EXPIRE_OFFERS: &str = "UPDATE waitlist_entries SET status = 'expired', updated_at = $1 \
     WHERE status = 'offered' AND id IN (SELECT w.id FROM waitlist_entries w JOIN slots s ON s.id = w.slot_id \
     WHERE w.status = 'offered' AND (w.offered_at <= $2 OR s.starts_at <= $1) ORDER BY w.id LIMIT $3) \
     RETURNING id, slot_id";

/// Tables and columns, for the test that keeps both schemas alike.
pub const SCHEMA_TABLES: &[&str] = &[
    "webinars",
    "slots",
    "persons",
    "consents",
    "leads",
    "registrations",
    "api_tokens",
    "advisors",
    "advisor_availability",
    "callback_windows",
    "settings",
    "advisor_window_load",
    "waitlist_entries",
    "consultations",
    "resumes",
    "consultation_events",
    "resume_reviews",
    "outbox",
    "webhook_endpoints",
    "deliveries",
    "articles",
    "article_tags",
    "recipient_allowances",
    "webinar_links",
    "slot_links",
    "registration_joins",
];

/// Sets a webinar's addresses: `$2`/`$4` say whether `$3`/`$5` replace the
/// join and replay address (NULL clears one), so a change names only what
/// it changes. Answers the addresses as they now are.
pub const SET_WEBINAR_LINKS: &str = "INSERT INTO webinar_links (webinar_id, join_url, replay_url, updated_at) \
     VALUES ($1, $3, $5, $6) ON CONFLICT (webinar_id) DO UPDATE SET \
     join_url = CASE WHEN $2 THEN excluded.join_url ELSE webinar_links.join_url END, \
     replay_url = CASE WHEN $4 THEN excluded.replay_url ELSE webinar_links.replay_url END, \
     updated_at = excluded.updated_at RETURNING join_url, replay_url";

/// The same for a slot's own addresses.
pub const SET_SLOT_LINKS: &str = "INSERT INTO slot_links (slot_id, join_url, replay_url, updated_at) \
     VALUES ($1, $3, $5, $6) ON CONFLICT (slot_id) DO UPDATE SET \
     join_url = CASE WHEN $2 THEN excluded.join_url ELSE slot_links.join_url END, \
     replay_url = CASE WHEN $4 THEN excluded.replay_url ELSE slot_links.replay_url END, \
     updated_at = excluded.updated_at RETURNING join_url, replay_url";

pub const ALL_WEBINAR_LINKS: &str = "SELECT webinar_id, join_url, replay_url FROM webinar_links";

pub const SLOT_LINKS: &str = "SELECT l.slot_id, l.join_url, l.replay_url FROM slot_links l \
     JOIN slots s ON s.id = l.slot_id WHERE s.webinar_id = $1";

/// The addresses in force for a registration's slot: its own, else its
/// webinar's.
pub const LINKS_OF_REGISTRATION: &str = "SELECT COALESCE(sl.join_url, wl.join_url), \
     COALESCE(sl.replay_url, wl.replay_url) FROM registrations r \
     LEFT JOIN slot_links sl ON sl.slot_id = r.slot_id \
     LEFT JOIN webinar_links wl ON wl.webinar_id = r.webinar_id WHERE r.id = $1";

/// One more opening of a join link: the first time is kept, the last moves.
pub const RECORD_JOIN: &str = "INSERT INTO registration_joins (registration_id, first_joined_at, \
     last_joined_at, joins) VALUES ($1, $2, $2, 1) ON CONFLICT (registration_id) DO UPDATE SET \
     last_joined_at = excluded.last_joined_at, joins = registration_joins.joins + 1";
