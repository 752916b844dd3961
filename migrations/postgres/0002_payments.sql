-- Official payment notices of the tax authority (API.md §4).
create table notice (
    notice_id    text primary key,
    notice_no    text not null,
    agency_code  text,
    dossier_code text,
    issued_at    text not null,
    taxpayer     text not null,
    treasury     text not null,
    content_hash text not null,
    status       text not null check (status in ('unpaid', 'partially_paid', 'paid')),
    created_by   text not null,
    created_at   text not null,
    updated_at   text not null,
    constraint notice_notice_no_key unique (notice_no)
);
create index notice_dossier_idx on notice (dossier_code);

create table notice_line (
    notice_line_id    text primary key,
    notice_id         text not null references notice (notice_id),
    position          bigint not null,
    chapter           text,
    sub_item          text not null,
    name              text not null,
    amount            bigint not null check (amount > 0),
    due_date          text not null,
    interest_sub_item text,
    status            text not null check (status in ('unpaid', 'paid')),
    paid_by           text,
    paid_at           text
);
create index notice_line_notice_idx on notice_line (notice_id, position);

-- Payment orders (API.md §5). Money is whole đồng.
create table payment (
    payment_id      text primary key,
    agency_code     text,
    dossier_code    text,
    status          text not null check (status in ('pending', 'processing', 'paid', 'expired', 'cancelled', 'partially_refunded', 'refunded')),
    amount          bigint not null check (amount > 0),
    refunded_amount bigint not null default 0,
    payer           text not null,
    return_url      text,
    locale          text not null,
    created_by      text not null,
    expires_at      text not null,
    paid_at         text,
    paid_attempt_id text,
    created_at      text not null,
    updated_at      text not null
);
create index payment_dossier_idx on payment (dossier_code);
create index payment_status_expires_idx on payment (status, expires_at);
create index payment_created_idx on payment (created_at);

create table payment_line (
    payment_id      text not null references payment (payment_id),
    position        bigint not null,
    kind            text not null check (kind in ('notice_line', 'late_payment_interest', 'fee')),
    source          text not null,
    notice_line_id  text,
    assessment_line text,
    sub_item        text,
    name            text not null,
    amount          bigint not null check (amount >= 0),
    days            bigint,
    due_date        text,
    constraint payment_line_pkey primary key (payment_id, position)
);

-- One row per item (a notice line, or an assessment fee line) held by a live or paid order:
-- the unique key is what makes "no item can be paid twice" hold across instances.
create table payment_hold (
    item_key   text not null,
    payment_id text not null references payment (payment_id),
    created_at text not null,
    constraint payment_hold_item_key_key primary key (item_key)
);
create index payment_hold_payment_idx on payment_hold (payment_id);

create table payment_flag (
    payment_id  text not null references payment (payment_id),
    flag        text not null check (flag in ('amount_mismatch', 'paid_after_expiry', 'duplicate_payment')),
    status      text not null check (status in ('open', 'resolved')),
    detail      text,
    note        text,
    resolved_by text,
    created_at  text not null,
    resolved_at text,
    constraint payment_flag_pkey primary key (payment_id, flag)
);
create index payment_flag_status_idx on payment_flag (status, created_at);

-- Gateway attempts. txn_ref is what the gateway echoes back (vnp_TxnRef, orderId, app_trans_id).
create table attempt (
    attempt_id     text primary key,
    payment_id     text not null references payment (payment_id),
    gateway        text not null,
    txn_ref        text not null,
    status         text not null check (status in ('redirected', 'succeeded', 'failed', 'expired', 'unknown')),
    amount         bigint not null,
    redirect_url   text,
    qr             text,
    client_ip      text,
    bank_code      text,
    expires_at     text not null,
    gateway_txn_no text,
    paid_amount    bigint,
    money_at       text,
    refunded_amount bigint not null default 0,
    created_at     text not null,
    updated_at     text not null,
    constraint attempt_txn_ref_key unique (txn_ref)
);
create index attempt_payment_idx on attempt (payment_id);
create index attempt_status_expires_idx on attempt (status, expires_at);
create index attempt_gateway_money_idx on attempt (gateway, money_at);

-- Every callback as received, with its verdict, committed before any transition.
create table callback (
    callback_id text primary key,
    gateway     text not null,
    txn_ref     text,
    payment_id  text,
    verdict     text not null,
    answer      text not null,
    payload     text not null,
    received_at text not null
);
create index callback_payment_idx on callback (payment_id, received_at);

-- Audit records of a payment besides its events: attempts, callbacks, flags, refunds.
create table audit (
    audit_id   text primary key,
    payment_id text not null,
    type       text not null,
    actor      text not null,
    data       text not null,
    created_at text not null
);
create index audit_payment_idx on audit (payment_id, created_at);

create table refund (
    refund_id  text primary key,
    payment_id text not null references payment (payment_id),
    attempt_id text not null,
    amount     bigint not null check (amount > 0),
    reason     text not null,
    status     text not null check (status in ('pending', 'succeeded', 'failed')),
    created_by text not null,
    created_at text not null,
    updated_at text not null
);
create index refund_payment_idx on refund (payment_id);

-- Events (API.md §7): the sequence comes from a counter row taken last in the writing
-- transaction, so sequences commit in order and readers never see a gap.
create table event_counter (
    name  text primary key,
    value bigint not null
);
insert into event_counter (name, value) values ('event', 0);

create table event (
    sequence    bigint primary key,
    event_id    text not null,
    type        text not null,
    payment_id  text,
    notice_id   text,
    agency_code text,
    body        text not null,
    created_at  text not null,
    constraint event_event_id_key unique (event_id)
);
create index event_payment_idx on event (payment_id, sequence);
create index event_type_idx on event (type, sequence);

-- Webhook endpoints and their deliveries (the transactional outbox).
create table webhook_endpoint (
    endpoint_id         text primary key,
    url                 text not null,
    agency_code         text,
    events              text not null,
    secret              text not null,
    previous_secret     text,
    previous_expires_at text,
    created_by          text not null,
    created_at          text not null,
    deleted_at          text
);

create table delivery (
    delivery_id     text primary key,
    endpoint_id     text not null references webhook_endpoint (endpoint_id),
    event_id        text not null,
    event_sequence  bigint not null,
    event_type      text not null,
    order_key       text not null,
    status          text not null check (status in ('pending', 'delivered', 'dead')),
    tries           bigint not null default 0,
    next_attempt_at text not null,
    locked_until    text,
    created_at      text not null,
    updated_at      text not null
);
create index delivery_due_idx on delivery (status, next_attempt_at);
create index delivery_order_idx on delivery (endpoint_id, order_key, event_sequence);

create table delivery_try (
    delivery_id text not null references delivery (delivery_id),
    attempt_no  bigint not null,
    at          text not null,
    status_code bigint,
    error       text,
    duration_ms bigint not null,
    constraint delivery_try_pkey primary key (delivery_id, attempt_no)
);

-- The built-in VNPay simulator's own ledger, so that it can answer querydr.
create table sandbox_txn (
    txn_ref          text primary key,
    params           text not null,
    response_code    text not null,
    transaction_no   text not null,
    created_at       text not null
);
