//! The database schema, shared by both backends. Portable SQL types only.

diesel::table! {
    org_units (id) {
        id -> BigInt,
        parent_id -> Nullable<BigInt>,
        name -> Text,
        credit_code -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    org_unit_closure (ancestor_id, descendant_id) {
        ancestor_id -> BigInt,
        descendant_id -> BigInt,
        depth -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        org_unit_id -> BigInt,
        password_hash -> Nullable<Text>,
        roles -> Text,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        kind -> Text,
        credentials_version -> Integer,
        secret_hash -> Nullable<Text>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    inspections (id) {
        id -> BigInt,
        title -> Text,
        inspecting_body -> Text,
        inspecting_unit_id -> BigInt,
        inspected_unit_id -> BigInt,
        topic -> Nullable<Text>,
        started_on -> Date,
        ended_on -> Date,
        feedback_on -> Nullable<Date>,
        rectification_due_on -> Nullable<Date>,
        approval_chain -> Text,
        status -> Text,
        concluded_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        published_report -> Nullable<Text>,
        created_by -> BigInt,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sections (id) {
        id -> BigInt,
        inspection_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        position -> Integer,
        title -> Text,
        level -> Integer,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    findings (id) {
        id -> BigInt,
        inspection_id -> BigInt,
        section_id -> Nullable<BigInt>,
        seq -> Integer,
        title -> Text,
        description -> Nullable<Text>,
        responsible_unit_id -> Nullable<BigInt>,
        responsible_leader_id -> Nullable<BigInt>,
        measures -> Nullable<Text>,
        outcome -> Nullable<Text>,
        due_on -> Nullable<Date>,
        status -> Text,
        long_term -> Bool,
        blocked_reason -> Nullable<Text>,
        blocked_until -> Nullable<Date>,
        closed_at -> Nullable<Timestamp>,
        reopen_count -> Integer,
        created_by -> BigInt,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    assignments (id) {
        id -> BigInt,
        finding_id -> BigInt,
        title -> Text,
        measures -> Nullable<Text>,
        responsible_unit_id -> BigInt,
        assignee_id -> Nullable<BigInt>,
        due_on -> Date,
        status -> Text,
        claimed_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        created_by -> BigInt,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    progress_reports (id) {
        id -> BigInt,
        assignment_id -> BigInt,
        author_id -> BigInt,
        content -> Text,
        percent -> Nullable<Integer>,
        period -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    approval_requests (id) {
        id -> BigInt,
        kind -> Text,
        finding_id -> BigInt,
        submitted_by -> BigInt,
        status -> Text,
        current_step -> Integer,
        outcome -> Nullable<Text>,
        evidence -> Nullable<Text>,
        long_term -> Nullable<Bool>,
        new_due_on -> Nullable<Date>,
        previous_due_on -> Nullable<Date>,
        reason -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    approval_steps (request_id, step) {
        request_id -> BigInt,
        step -> Integer,
        role -> Text,
        decided_by -> Nullable<BigInt>,
        decision -> Nullable<Text>,
        comment -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reviews (id) {
        id -> BigInt,
        finding_id -> BigInt,
        reviewer_id -> BigInt,
        outcome -> Text,
        notes -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    public_feedback (id) {
        id -> BigInt,
        inspection_id -> BigInt,
        content -> Text,
        contact -> Nullable<Text>,
        status -> Text,
        response -> Nullable<Text>,
        responded_by -> Nullable<BigInt>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notices (id) {
        id -> BigInt,
        finding_id -> BigInt,
        inspection_id -> BigInt,
        org_unit_id -> BigInt,
        level -> Text,
        message -> Text,
        respond_by -> Nullable<Date>,
        issued_by -> BigInt,
        issued_at -> Timestamp,
        status -> Text,
        acknowledged_by -> Nullable<BigInt>,
        acknowledged_at -> Nullable<Timestamp>,
        reply -> Nullable<Text>,
        version -> Integer,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> BigInt,
        idem_key -> Text,
        fingerprint -> Text,
        response_status -> Integer,
        response_body -> Text,
        response_etag -> Nullable<Text>,
        response_location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        entity_type -> Text,
        entity_id -> BigInt,
        inspection_id -> Nullable<BigInt>,
        finding_id -> Nullable<BigInt>,
        org_unit_id -> Nullable<BigInt>,
        data -> Text,
        request_id -> Nullable<Text>,
        txid -> BigInt,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        org_unit_id -> BigInt,
        url -> Text,
        event_types -> Text,
        description -> Nullable<Text>,
        active -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event_id -> BigInt,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        lease -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempt -> Integer,
        started_at -> Timestamp,
        duration_ms -> BigInt,
        http_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deadline_marks (finding_id, kind, level, due_on) {
        finding_id -> BigInt,
        kind -> Text,
        level -> Text,
        due_on -> Date,
        marked_at -> Timestamp,
    }
}

diesel::table! {
    audit_seals (position) {
        position -> BigInt,
        event_id -> BigInt,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(users -> org_units (org_unit_id));
diesel::joinable!(audit_seals -> audit_events (event_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> audit_events (event_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(sections -> inspections (inspection_id));
diesel::joinable!(findings -> inspections (inspection_id));
diesel::joinable!(findings -> sections (section_id));
diesel::joinable!(assignments -> findings (finding_id));
diesel::joinable!(progress_reports -> assignments (assignment_id));
diesel::joinable!(approval_requests -> findings (finding_id));
diesel::joinable!(approval_steps -> approval_requests (request_id));
diesel::joinable!(reviews -> findings (finding_id));
diesel::joinable!(deadline_marks -> findings (finding_id));
diesel::joinable!(public_feedback -> inspections (inspection_id));
diesel::joinable!(notices -> findings (finding_id));
diesel::joinable!(notices -> inspections (inspection_id));
diesel::joinable!(notices -> org_units (org_unit_id));

diesel::allow_tables_to_appear_in_same_query!(
    org_units,
    org_unit_closure,
    users,
    inspections,
    sections,
    findings,
    assignments,
    progress_reports,
    approval_requests,
    approval_steps,
    reviews,
    public_feedback,
    notices,
    idempotency_keys,
    audit_events,
    audit_seals,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    deadline_marks,
);
