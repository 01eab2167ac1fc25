-- The nodes of a cluster: each registers at start and beats every
-- `cluster.heartbeat`; a node silent for `cluster.dead_after` is declared
-- dead by another, which frees the work it held (its leases) at once.
CREATE TABLE nodes (
    id                TEXT PRIMARY KEY,
    listeners         TEXT NOT NULL,
    version           TEXT NOT NULL,
    started_at        BIGINT NOT NULL,
    last_heartbeat_at BIGINT NOT NULL,
    -- Set once: declared dead by another node, or stopped in good order.
    dead_at           BIGINT,
    stopped_at        BIGINT
);

-- An organization's send rate (`max_send_rate`) as one token bucket that
-- every node takes from, so the rate holds across the cluster.
CREATE TABLE send_rate_buckets (
    org_id TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at     BIGINT NOT NULL
);
