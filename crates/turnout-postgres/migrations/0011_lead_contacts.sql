-- What a visitor submits belongs to the lead it makes: the name, address and
-- phone given in step 1 are kept on the lead, and everything sent or shown
-- for a registration or a callback reads them from there. A person's row
-- keeps the details first given for that email; an unauthenticated request
-- no longer changes it. Keep in step with SQLite's 0009 and its `register`.

ALTER TABLE leads ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN country TEXT;

UPDATE leads SET name = p.name, email = p.email, phone = p.phone, country = p.country
FROM persons p WHERE p.id = leads.person_id;

-- turnout_register as in 0002, but the person is only found, never
-- overwritten, the lead keeps the submitted details, and a registration is
-- answered with its lead's name and address.
CREATE OR REPLACE FUNCTION turnout_register(
    p_id UUID, p_slot_id BIGINT, p_manage_token_hash TEXT, p_now TIMESTAMPTZ,
    p_lead_id UUID, p_lead_token_hash TEXT, p_new_lead BOOLEAN,
    p_webinar TEXT, p_email_normalised TEXT, p_email TEXT, p_name TEXT, p_phone TEXT, p_country TEXT,
    p_time_zone TEXT, p_policy_version TEXT, p_policy_sha256 TEXT, p_sms BOOLEAN, p_ip TEXT, p_user_agent TEXT,
    p_utm_source TEXT, p_utm_medium TEXT, p_utm_campaign TEXT, p_utm_term TEXT, p_utm_content TEXT,
    p_referrer TEXT, p_page TEXT
) RETURNS TABLE (
    o_outcome TEXT,
    o_id UUID, o_status TEXT, o_time_zone TEXT, o_sequence BIGINT, o_created_at TIMESTAMPTZ, o_updated_at TIMESTAMPTZ,
    o_person_name TEXT, o_person_email TEXT,
    o_webinar_id BIGINT, o_webinar_slug TEXT, o_webinar_title TEXT, o_duration_minutes BIGINT,
    o_slot_id BIGINT, o_slot_webinar_id BIGINT, o_starts_at TIMESTAMPTZ, o_capacity BIGINT, o_seats_taken BIGINT,
    o_slot_status TEXT
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_slot slots%ROWTYPE;
    v_webinar webinars%ROWTYPE;
    v_person BIGINT;
    v_lead_webinar BIGINT;
    v_time_zone TEXT;
    v_consent BIGINT;
    v_registration UUID;
BEGIN
    SELECT * INTO v_slot FROM slots WHERE id = p_slot_id;
    IF NOT FOUND THEN
        o_outcome := 'slot_not_found';
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT * INTO v_webinar FROM webinars WHERE id = v_slot.webinar_id;

    IF p_new_lead THEN
        IF v_webinar.slug <> p_webinar OR v_webinar.status <> 'published' THEN
            IF EXISTS (SELECT 1 FROM webinars WHERE slug = p_webinar AND status = 'published') THEN
                o_outcome := 'slot_in_other_webinar';
            ELSE
                o_outcome := 'webinar_not_found';
            END IF;
            RETURN NEXT;
            RETURN;
        END IF;
        INSERT INTO persons (email_normalised, email, name, phone, country, created_at, updated_at)
        VALUES (p_email_normalised, p_email, p_name, p_phone, p_country, p_now, p_now)
        ON CONFLICT (email_normalised) DO UPDATE SET updated_at = persons.updated_at
        RETURNING id INTO v_person;
        INSERT INTO consents (person_id, policy_version, policy_sha256, email, sms, ip, user_agent, created_at)
        VALUES (v_person, p_policy_version, p_policy_sha256, TRUE, p_sms, p_ip, p_user_agent, p_now)
        RETURNING id INTO v_consent;
        INSERT INTO leads (id, person_id, webinar_id, consent_id, token_hash, time_zone, utm_source, utm_medium,
            utm_campaign, utm_term, utm_content, referrer, page, created_at, name, email, phone, country)
        VALUES (p_lead_id, v_person, v_webinar.id, v_consent, p_lead_token_hash, p_time_zone, p_utm_source,
            p_utm_medium, p_utm_campaign, p_utm_term, p_utm_content, p_referrer, p_page, p_now,
            p_name, p_email, p_phone, p_country);
        v_lead_webinar := v_webinar.id;
        v_time_zone := p_time_zone;
    ELSE
        SELECT person_id, webinar_id, time_zone INTO v_person, v_lead_webinar, v_time_zone
        FROM leads WHERE id = p_lead_id AND token_hash = p_lead_token_hash;
        IF NOT FOUND THEN
            o_outcome := 'lead_not_found';
            RETURN NEXT;
            RETURN;
        END IF;
        IF v_lead_webinar <> v_slot.webinar_id THEN
            o_outcome := 'slot_in_other_webinar';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    SELECT id INTO v_registration FROM registrations
    WHERE person_id = v_person AND webinar_id = v_lead_webinar AND status = 'confirmed';
    IF FOUND THEN
        o_outcome := 'existing';
    ELSE
        UPDATE slots SET seats_taken = seats_taken + 1, updated_at = p_now
        WHERE id = p_slot_id AND status = 'open' AND starts_at > p_now AND seats_taken < capacity
          AND EXISTS (SELECT 1 FROM webinars w WHERE w.id = slots.webinar_id AND w.status = 'published');
        IF NOT FOUND THEN
            SELECT * INTO v_slot FROM slots WHERE id = p_slot_id;
            IF v_slot.status = 'open' AND v_slot.starts_at > p_now AND v_slot.seats_taken >= v_slot.capacity THEN
                o_outcome := 'slot_full';
            ELSE
                o_outcome := 'slot_closed';
            END IF;
            RETURN NEXT;
            RETURN;
        END IF;
        INSERT INTO registrations (id, person_id, webinar_id, slot_id, lead_id, status, manage_token_hash,
            time_zone, sequence, created_at, updated_at)
        VALUES (p_id, v_person, v_lead_webinar, p_slot_id, p_lead_id, 'confirmed', p_manage_token_hash,
            v_time_zone, 0, p_now, p_now);
        v_registration := p_id;
        o_outcome := 'created';
    END IF;

    SELECT r.id, r.status, r.time_zone, r.sequence, r.created_at, r.updated_at, l.name, l.email,
           w.id, w.slug, w.title, w.duration_minutes,
           s.id, s.webinar_id, s.starts_at, s.capacity, s.seats_taken, s.status
    INTO o_id, o_status, o_time_zone, o_sequence, o_created_at, o_updated_at, o_person_name, o_person_email,
         o_webinar_id, o_webinar_slug, o_webinar_title, o_duration_minutes,
         o_slot_id, o_slot_webinar_id, o_starts_at, o_capacity, o_seats_taken, o_slot_status
    FROM registrations r
    JOIN leads l ON l.id = r.lead_id
    JOIN webinars w ON w.id = r.webinar_id
    JOIN slots s ON s.id = r.slot_id
    WHERE r.id = v_registration;
    RETURN NEXT;
END
$$;
