-- WhatsApp: a consent of its own (which also covers an SMS when the number
-- turns out not to be on WhatsApp), and a delivery channel. Keep in step
-- with SQLite's 0015.
--
-- turnout_register_set (0014) is replaced only to record the new consent
-- with each new lead; its rules are unchanged.

ALTER TABLE consents ADD COLUMN whatsapp BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check,
    ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('email', 'sms', 'whatsapp', 'webhook'));

ALTER TYPE turnout_registration_request ADD ATTRIBUTE whatsapp BOOLEAN;

CREATE OR REPLACE FUNCTION turnout_register_set(requests JSONB) RETURNS TABLE (
    o_index BIGINT,
    o_outcome TEXT,
    o_id UUID, o_status TEXT, o_time_zone TEXT, o_sequence BIGINT, o_created_at TIMESTAMPTZ, o_updated_at TIMESTAMPTZ,
    o_person_name TEXT, o_person_email TEXT,
    o_webinar_id BIGINT, o_webinar_slug TEXT, o_webinar_title TEXT, o_duration_minutes BIGINT,
    o_slot_id BIGINT, o_slot_webinar_id BIGINT, o_starts_at TIMESTAMPTZ, o_capacity BIGINT, o_seats_taken BIGINT,
    o_slot_status TEXT
) LANGUAGE plpgsql
-- A batch is at most 64 requests and every lookup here is by a key. While a
-- table grows faster than autovacuum analyzes it (a launch, a benchmark),
-- the planner takes it for small, and the plans PL/pgSQL keeps went on
-- scanning leads and registrations whole, inside the slot locks. So no
-- sequential scans, and a person's seat is looked up per request (LATERAL,
-- LIMIT 1) on the one-seat index ("webinar_id + 0" keeps it off
-- registrations_webinar, which holds every row of the webinar).
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    v_requests turnout_registration_request[];
    v_state turnout_registration_state[];
    v_lost BIGINT;
BEGIN
    v_requests := ARRAY(
        SELECT r FROM jsonb_populate_recordset(NULL::turnout_registration_request, requests) r ORDER BY r.idx);

    -- The slot, its webinar and, for a known lead, the lead: what can be
    -- refused before anything is written.
    v_state := ARRAY(
        SELECT ROW(
            r.idx,
            s.webinar_id,
            l.person_id,
            CASE WHEN r.new_lead THEN r.time_zone ELSE l.time_zone END,
            CASE
                WHEN s.id IS NULL THEN 'slot_not_found'
                WHEN r.new_lead AND (w.slug <> r.webinar OR w.status <> 'published') THEN
                    CASE WHEN EXISTS (SELECT 1 FROM webinars o WHERE o.slug = r.webinar AND o.status = 'published')
                        THEN 'slot_in_other_webinar' ELSE 'webinar_not_found' END
                WHEN NOT r.new_lead AND l.id IS NULL THEN 'lead_not_found'
                WHEN NOT r.new_lead AND l.webinar_id <> s.webinar_id THEN 'slot_in_other_webinar'
            END,
            NULL
        )::turnout_registration_state
        FROM unnest(v_requests) r
        LEFT JOIN slots s ON s.id = r.slot_id
        LEFT JOIN webinars w ON w.id = s.webinar_id
        LEFT JOIN leads l ON NOT r.new_lead AND l.id = r.lead_id AND l.token_hash = r.lead_token_hash
        ORDER BY r.idx);

    -- New leads' persons: found by normalised email, never overwritten,
    -- upserted in email order.
    WITH wanted AS (
        SELECT DISTINCT ON (r.email_normalised) r.*
        FROM unnest(v_requests) r JOIN unnest(v_state) e USING (idx)
        WHERE r.new_lead AND e.outcome IS NULL
        ORDER BY r.email_normalised, r.idx
    ), found AS (
        INSERT INTO persons (email_normalised, email, name, phone, country, created_at, updated_at)
        SELECT email_normalised, email, name, phone, country, now, now FROM wanted ORDER BY email_normalised
        ON CONFLICT (email_normalised) DO UPDATE SET updated_at = persons.updated_at
        RETURNING id, email_normalised
    )
    SELECT array_agg(ROW(e.idx, e.webinar_id, COALESCE(e.person_id, f.id), e.time_zone, e.outcome, NULL)::turnout_registration_state
        ORDER BY e.idx)
    INTO v_state
    FROM unnest(v_state) e JOIN unnest(v_requests) r USING (idx)
    LEFT JOIN found f ON r.new_lead AND e.outcome IS NULL AND f.email_normalised = r.email_normalised;

    -- The same person twice for one webinar: all but the first go again alone.
    v_state := ARRAY(
        SELECT ROW(e.idx, e.webinar_id, e.person_id, e.time_zone,
            CASE WHEN e.outcome IS NULL AND row_number() OVER (
                PARTITION BY e.outcome IS NULL, e.person_id, e.webinar_id ORDER BY e.idx) > 1
            THEN 'retry' ELSE e.outcome END,
            NULL)::turnout_registration_state
        FROM unnest(v_state) e
        ORDER BY e.idx);

    -- Each new lead with its consent, kept whatever becomes of the seat.
    WITH fresh AS MATERIALIZED (
        SELECT r.*, e.person_id, e.webinar_id, nextval(pg_get_serial_sequence('consents', 'id')) AS consent_id
        FROM unnest(v_requests) r JOIN unnest(v_state) e USING (idx)
        WHERE r.new_lead AND e.outcome IS NULL
    ), consented AS (
        INSERT INTO consents (id, person_id, policy_version, policy_sha256, email, sms, whatsapp, ip, user_agent,
            created_at)
        OVERRIDING SYSTEM VALUE
        SELECT consent_id, person_id, policy_version, policy_sha256, TRUE, sms, COALESCE(whatsapp, FALSE), ip,
            user_agent, now FROM fresh
    )
    INSERT INTO leads (id, person_id, webinar_id, consent_id, token_hash, time_zone, utm_source, utm_medium,
        utm_campaign, utm_term, utm_content, referrer, page, created_at, name, email, phone, country)
    SELECT lead_id, person_id, webinar_id, consent_id, lead_token_hash, time_zone, utm_source, utm_medium,
        utm_campaign, utm_term, utm_content, referrer, page, now, name, email, phone, country
    FROM fresh;

    -- Already registered for this webinar: the existing seat is the answer.
    v_state := ARRAY(
        SELECT ROW(e.idx, e.webinar_id, e.person_id, e.time_zone,
            CASE WHEN x.id IS NOT NULL THEN 'existing' ELSE e.outcome END,
            x.id)::turnout_registration_state
        FROM unnest(v_state) e
        LEFT JOIN LATERAL (SELECT x.id FROM registrations x WHERE x.person_id = e.person_id
            AND x.webinar_id + 0 = e.webinar_id AND x.status = 'confirmed' LIMIT 1) x ON e.outcome IS NULL
        ORDER BY e.idx);

    PERFORM 1 FROM slots
    WHERE id IN (SELECT r.slot_id FROM unnest(v_requests) r JOIN unnest(v_state) e USING (idx) WHERE e.outcome IS NULL)
    ORDER BY id
    FOR UPDATE;

    -- Seats in arrival order against what each slot has left. A seat whose
    -- insert meets a registration of the same person committed meanwhile
    -- by another transaction is not taken ('lost'); that request answers
    -- with the other registration and the round runs again for the rest.
    LOOP
        WITH pending AS (
            SELECT e.idx, r.id, r.slot_id, r.lead_id, r.manage_token_hash, r.now, e.person_id, e.webinar_id,
                e.time_zone, s.capacity - s.seats_taken AS seats_left,
                row_number() OVER (PARTITION BY r.slot_id ORDER BY e.idx) AS place
            FROM unnest(v_state) e JOIN unnest(v_requests) r USING (idx)
            JOIN slots s ON s.id = r.slot_id
            JOIN webinars w ON w.id = s.webinar_id
            WHERE e.outcome IS NULL AND s.status = 'open' AND s.starts_at > r.now AND w.status = 'published'
        ), seated AS (
            INSERT INTO registrations (id, person_id, webinar_id, slot_id, lead_id, status, manage_token_hash,
                time_zone, sequence, created_at, updated_at)
            SELECT id, person_id, webinar_id, slot_id, lead_id, 'confirmed', manage_token_hash, time_zone, 0,
                now, now
            FROM pending WHERE place <= seats_left
            ON CONFLICT (person_id, webinar_id) WHERE status = 'confirmed' DO NOTHING
            RETURNING id, slot_id, created_at
        ), counted AS (
            UPDATE slots s SET seats_taken = s.seats_taken + t.taken, updated_at = t.at
            FROM (SELECT slot_id, count(*) AS taken, max(created_at) AS at FROM seated GROUP BY slot_id) t
            WHERE s.id = t.slot_id
        )
        SELECT array_agg(ROW(e.idx, e.webinar_id, e.person_id, e.time_zone,
                CASE WHEN g.id IS NOT NULL THEN 'created' WHEN p.place <= p.seats_left THEN 'lost' ELSE e.outcome END,
                COALESCE(g.id, e.registration))::turnout_registration_state ORDER BY e.idx)
        INTO v_state
        FROM unnest(v_state) e
        LEFT JOIN pending p USING (idx)
        LEFT JOIN seated g ON g.id = p.id;

        SELECT count(*) INTO v_lost FROM unnest(v_state) e WHERE e.outcome = 'lost';
        EXIT WHEN v_lost = 0;

        v_state := ARRAY(
            SELECT ROW(e.idx, e.webinar_id, e.person_id, e.time_zone,
                CASE WHEN e.outcome = 'lost' THEN CASE WHEN x.id IS NULL THEN NULL ELSE 'existing' END ELSE e.outcome END,
                COALESCE(x.id, e.registration))::turnout_registration_state
            FROM unnest(v_state) e
            LEFT JOIN LATERAL (SELECT x.id FROM registrations x WHERE x.person_id = e.person_id
                AND x.webinar_id + 0 = e.webinar_id AND x.status = 'confirmed' LIMIT 1) x ON e.outcome = 'lost'
            ORDER BY e.idx);
    END LOOP;

    -- No seat for the rest: full when the slot is open, ahead and full
    -- (whatever its webinar's status), closed otherwise.
    v_state := ARRAY(
        SELECT ROW(e.idx, e.webinar_id, e.person_id, e.time_zone,
            CASE WHEN e.outcome IS NOT NULL THEN e.outcome
                WHEN s.status = 'open' AND s.starts_at > r.now AND s.seats_taken >= s.capacity THEN 'slot_full'
                ELSE 'slot_closed' END,
            e.registration)::turnout_registration_state
        FROM unnest(v_state) e JOIN unnest(v_requests) r USING (idx)
        LEFT JOIN slots s ON s.id = r.slot_id
        ORDER BY e.idx);

    -- lead.created for each new lead kept, then registration.confirmed for a
    -- seat taken or the manage-link email for a seat found.
    INSERT INTO outbox (event_id, event_type, payload, created_at)
    SELECT event_id, event_type, payload, now FROM (
        SELECT r.idx, 1 AS ord, r.lead_event_id AS event_id, 'lead.created' AS event_type, r.lead_event AS payload,
            r.now
        FROM unnest(v_state) e JOIN unnest(v_requests) r USING (idx)
        WHERE r.new_lead AND e.outcome IN ('created', 'existing', 'slot_full', 'slot_closed')
        UNION ALL
        SELECT r.idx, 2, r.event_id,
            CASE e.outcome WHEN 'created' THEN 'registration.confirmed' ELSE 'registration.manage_link_requested' END,
            json_build_object('registration_id', g.id, 'status', g.status, 'sequence', g.sequence,
                'webinar', w.slug, 'webinar_title', w.title, 'slot_id', s.id, 'starts_at', turnout_rfc3339(s.starts_at),
                'duration_minutes', w.duration_minutes, 'time_zone', g.time_zone, 'name', l.name,
                'email', l.email)::text,
            r.now
        FROM unnest(v_state) e JOIN unnest(v_requests) r USING (idx)
        JOIN registrations g ON g.id = e.registration
        JOIN leads l ON l.id = g.lead_id
        JOIN webinars w ON w.id = g.webinar_id
        JOIN slots s ON s.id = g.slot_id
        WHERE e.outcome IN ('created', 'existing')
    ) events
    ORDER BY idx, ord;

    RETURN QUERY
    SELECT e.idx, e.outcome,
        g.id, g.status, g.time_zone, g.sequence, g.created_at, g.updated_at, l.name, l.email,
        w.id, w.slug, w.title, w.duration_minutes,
        s.id, s.webinar_id, s.starts_at, s.capacity, s.seats_taken, s.status
    FROM unnest(v_state) e JOIN unnest(v_requests) r USING (idx)
    LEFT JOIN registrations g ON g.id = e.registration
    LEFT JOIN leads l ON l.id = g.lead_id
    LEFT JOIN webinars w ON w.id = g.webinar_id
    LEFT JOIN slots s ON s.id = g.slot_id
    ORDER BY e.idx;
END
$$;
