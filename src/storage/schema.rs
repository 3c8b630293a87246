//! Diesel table definitions, kept in step with `migrations/`.
//!
//! Columns declared with a PostgreSQL domain (`claim_kind`, `confidence_score`…)
//! are mapped to the domain's base type; the database enforces the domain check.

diesel::table! {
    stories (id) {
        id -> Int8,
        slug -> Text,
        title -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    speakers (id) {
        id -> Int8,
        kind -> Text,
        name -> Text,
        role -> Nullable<Text>,
        affiliation -> Nullable<Text>,
        aliases -> Array<Text>,
        created_at -> Timestamptz,
        merged_into -> Nullable<Int8>,
        name_key -> Text,
        role_name_key -> Nullable<Text>,
        alias_keys -> Array<Text>,
        search_terms -> Text,
        revision -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    articles (id) {
        id -> Int8,
        story_id -> Int8,
        url -> Text,
        outlet -> Text,
        published_at -> Timestamptz,
        current_revision -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        search_terms -> Text,
    }
}

diesel::table! {
    article_revisions (article_id, revision) {
        article_id -> Int8,
        revision -> Int4,
        headline -> Text,
        body -> Text,
        body_sha256 -> Bytea,
        body_chars -> Int4,
        author -> Text,
        reason -> Nullable<Text>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    claims (id) {
        id -> Int8,
        story_id -> Int8,
        revision -> Int4,
        speaker_id -> Int8,
        text -> Text,
        kind -> Text,
        cue -> Nullable<Text>,
        said_start -> Nullable<Timestamptz>,
        said_end -> Nullable<Timestamptz>,
        said_precision -> Nullable<Text>,
        said_expression -> Nullable<Text>,
        confidence -> Nullable<Float8>,
        hedges -> Array<Text>,
        status -> Text,
        appearances_revision -> Int4,
        needs_review -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        created_by -> Text,
        assignee -> Nullable<Text>,
        assigned_at -> Nullable<Timestamptz>,
        text_key -> Text,
        search_terms -> Text,
        duplicate_bands -> Array<Int8>,
    }
}

diesel::table! {
    claim_duplicate_bands (band, claim_id) {
        band -> Int8,
        claim_id -> Int8,
    }
}

diesel::table! {
    claim_revisions (claim_id, revision) {
        claim_id -> Int8,
        revision -> Int4,
        story_id -> Int8,
        speaker_id -> Int8,
        text -> Text,
        kind -> Text,
        cue -> Nullable<Text>,
        said_start -> Nullable<Timestamptz>,
        said_end -> Nullable<Timestamptz>,
        said_precision -> Nullable<Text>,
        said_expression -> Nullable<Text>,
        confidence -> Nullable<Float8>,
        hedges -> Array<Text>,
        status -> Text,
        appearances_revision -> Int4,
        needs_review -> Bool,
        author -> Text,
        reason -> Nullable<Text>,
        recorded_at -> Timestamptz,
        speaker_revision -> Int4,
    }
}

diesel::table! {
    claim_appearances (id) {
        id -> Int8,
        claim_id -> Int8,
        claim_revision -> Int4,
        article_id -> Int8,
        article_revision -> Int4,
        span_start -> Int4,
        span_end -> Int4,
        excerpt -> Text,
        recorded_at -> Timestamptz,
        state -> Text,
        previous_excerpt -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor -> Text,
        action -> Text,
        subject_type -> Text,
        subject_id -> Int8,
        story_id -> Nullable<Int8>,
        before_revision -> Nullable<Int4>,
        after_revision -> Nullable<Int4>,
        request_id -> Nullable<Text>,
        details -> Jsonb,
        /// The retired hash chain, on events written before the log.
        chain_seq -> Nullable<Int8>,
        prev_hash -> Nullable<Bytea>,
        hash -> Nullable<Bytea>,
    }
}

diesel::table! {
    claim_reviews (id) {
        id -> Int8,
        claim_id -> Int8,
        claim_revision -> Int4,
        reviewer -> Text,
        verdict -> Text,
        rationale -> Text,
        reviewer_confidence -> Nullable<Float8>,
        evidence -> Jsonb,
        supersedes_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        source_url -> Nullable<Text>,
        source_author -> Nullable<Jsonb>,
        source_date_published -> Nullable<Text>,
        source_rating -> Nullable<Jsonb>,
        source_language -> Nullable<Text>,
        source_document -> Nullable<Jsonb>,
    }
}

diesel::table! {
    claim_comments (id) {
        id -> Int8,
        claim_id -> Int8,
        author -> Text,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    claim_relations (id) {
        id -> Int8,
        claim_id -> Int8,
        kind -> Text,
        target_id -> Int8,
        note -> Nullable<Text>,
        author -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (actor, key) {
        actor -> Text,
        key -> Text,
        method -> Text,
        path -> Text,
        request_sha256 -> Bytea,
        status -> Nullable<Int2>,
        response_body -> Nullable<Bytea>,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        name -> Text,
        role -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        user_id -> Int8,
        token_sha256 -> Bytea,
        label -> Nullable<Text>,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::table! {
    browser_sessions (id_sha256) {
        id_sha256 -> Bytea,
        token_id -> Int8,
        csrf_token -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(browser_sessions -> api_tokens (token_id));
diesel::joinable!(articles -> stories (story_id));
diesel::joinable!(article_revisions -> articles (article_id));
diesel::joinable!(claims -> stories (story_id));
diesel::joinable!(claims -> speakers (speaker_id));
diesel::joinable!(claim_appearances -> articles (article_id));

diesel::allow_tables_to_appear_in_same_query!(
    stories,
    speakers,
    articles,
    article_revisions,
    claims,
    claim_revisions,
    claim_appearances,
    audit_events,
    users,
    api_tokens,
    browser_sessions,
    claim_reviews,
    claim_comments,
    idempotency_keys,
    speaker_revisions,
    audit_log_leaves,
    audit_log_hashes,
    audit_log_checkpoints,
    claim_relations,
);

diesel::table! {
    text_keys_version (singleton) {
        singleton -> Bool,
        version -> Int4,
    }
}

diesel::table! {
    audit_log_leaves (leaf_index) {
        leaf_index -> Int8,
        event_id -> Int8,
        story_id -> Nullable<Int8>,
        story_seq -> Nullable<Int8>,
    }
}

diesel::table! {
    audit_log_hashes (hash_index) {
        hash_index -> Int8,
        hash -> Bytea,
    }
}

diesel::table! {
    audit_log_checkpoints (tree_size) {
        tree_size -> Int8,
        root_hash -> Bytea,
        signed_note -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(audit_log_leaves -> audit_events (event_id));

diesel::table! {
    speaker_revisions (speaker_id, revision) {
        speaker_id -> Int8,
        revision -> Int4,
        kind -> Text,
        name -> Text,
        role -> Nullable<Text>,
        affiliation -> Nullable<Text>,
        aliases -> Array<Text>,
        merged_into -> Nullable<Int8>,
        author -> Text,
        reason -> Nullable<Text>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    watches (id) {
        id -> Int8,
        url -> Text,
        filing -> Text,
        story_id -> Nullable<Int8>,
        keywords -> Array<Text>,
        interval_s -> Int4,
        extract -> Bool,
        kind -> Nullable<Text>,
        paused -> Bool,
        next_poll_at -> Timestamptz,
        polling_since -> Nullable<Timestamptz>,
        last_polled_at -> Nullable<Timestamptz>,
        last_success_at -> Nullable<Timestamptz>,
        last_outcome -> Nullable<Text>,
        last_error -> Nullable<Text>,
        consecutive_failures -> Int4,
        etag -> Nullable<Text>,
        last_modified -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    watch_items (id) {
        id -> Int8,
        watch_id -> Int8,
        url -> Text,
        title -> Nullable<Text>,
        published_at -> Nullable<Timestamptz>,
        state -> Text,
        story_id -> Nullable<Int8>,
        article_id -> Nullable<Int8>,
        etag -> Nullable<Text>,
        last_modified -> Nullable<Text>,
        first_seen_at -> Timestamptz,
        last_fetched_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    article_captures (article_id, revision) {
        article_id -> Int8,
        revision -> Int4,
        story_id -> Int8,
        watch_id -> Nullable<Int8>,
        url -> Text,
        media_type -> Text,
        fetched_at -> Timestamptz,
        page_bytes -> Int4,
        page_sha256 -> Bytea,
        page_gzip -> Bytea,
    }
}

diesel::joinable!(watch_items -> watches (watch_id));
diesel::allow_tables_to_appear_in_same_query!(watches, watch_items, articles, article_captures);
