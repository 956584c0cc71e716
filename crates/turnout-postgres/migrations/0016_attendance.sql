-- Who settled each registration's attendance, and when: 'join_link' when
-- judged after the slot from the registrant's openings of their join link,
-- 'admin' when marked by hand, 'report' when read from a meeting platform's
-- participants report. A judgement from links never overrides the other
-- two. NULL while the registration is unsettled.
-- Keep in step with SQLite's 0013.

ALTER TABLE registrations ADD COLUMN attendance_source TEXT
    CHECK (attendance_source IN ('join_link', 'admin', 'report'));
ALTER TABLE registrations ADD COLUMN attendance_marked_at TIMESTAMPTZ;
