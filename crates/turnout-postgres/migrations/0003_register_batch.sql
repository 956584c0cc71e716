-- Many registrations in one statement and one commit (group commit). Each
-- element runs turnout_register inside its own subtransaction, so one
-- element losing a race to a concurrent registration of the same person
-- ('retry': the caller retries it alone) does not undo the others. The
-- caller keeps batches at 64 elements or fewer, the number of
-- subtransactions PostgreSQL tracks per transaction without overflowing.

CREATE FUNCTION turnout_register_batch(requests JSONB) RETURNS TABLE (
    o_index BIGINT,
    o_outcome TEXT,
    o_id UUID, o_status TEXT, o_time_zone TEXT, o_sequence BIGINT, o_created_at TIMESTAMPTZ, o_updated_at TIMESTAMPTZ,
    o_person_name TEXT, o_person_email TEXT,
    o_webinar_id BIGINT, o_webinar_slug TEXT, o_webinar_title TEXT, o_duration_minutes BIGINT,
    o_slot_id BIGINT, o_slot_webinar_id BIGINT, o_starts_at TIMESTAMPTZ, o_capacity BIGINT, o_seats_taken BIGINT,
    o_slot_status TEXT
) LANGUAGE plpgsql AS $$
DECLARE
    v_request JSONB;
    v_index BIGINT;
BEGIN
    FOR v_request, v_index IN SELECT value, ordinality FROM jsonb_array_elements(requests) WITH ORDINALITY LOOP
        BEGIN
            RETURN QUERY SELECT v_index, t.* FROM turnout_register(
                (v_request->>'id')::UUID, (v_request->>'slot_id')::BIGINT, v_request->>'manage_token_hash',
                (v_request->>'now')::TIMESTAMPTZ, (v_request->>'lead_id')::UUID, v_request->>'lead_token_hash',
                (v_request->>'new_lead')::BOOLEAN, v_request->>'webinar', v_request->>'email_normalised',
                v_request->>'email', v_request->>'name', v_request->>'phone', v_request->>'country',
                v_request->>'time_zone', v_request->>'policy_version', v_request->>'policy_sha256',
                (v_request->>'sms')::BOOLEAN, v_request->>'ip', v_request->>'user_agent',
                v_request->>'utm_source', v_request->>'utm_medium', v_request->>'utm_campaign',
                v_request->>'utm_term', v_request->>'utm_content', v_request->>'referrer', v_request->>'page'
            ) t;
        EXCEPTION WHEN unique_violation THEN
            o_index := v_index;
            o_outcome := 'retry';
            RETURN NEXT;
        END;
    END LOOP;
END
$$;
