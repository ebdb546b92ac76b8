-- Initial schema: people, catalog, orders (partitioned by month) and what hangs off them.
-- Money is integer cents; every time is timestamptz.

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  password_hash text NOT NULL,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  phone         text,
  role          text NOT NULL CHECK (role IN ('customer', 'driver', 'merchant', 'admin')),
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE merchants (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id              uuid UNIQUE REFERENCES users (id),
  name                  text NOT NULL,
  description           text NOT NULL DEFAULT '',
  address               text NOT NULL,
  lat                   double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lng                   double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
  category              text NOT NULL,
  avg_prep_time_minutes integer NOT NULL DEFAULT 15 CHECK (avg_prep_time_minutes BETWEEN 1 AND 180),
  delivery_radius_km    double precision NOT NULL DEFAULT 5 CHECK (delivery_radius_km > 0 AND delivery_radius_km <= 50),
  rating                real CHECK (rating BETWEEN 1 AND 5),
  rating_count          integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
  is_open               boolean NOT NULL DEFAULT true,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX merchants_lat_lng_idx ON merchants (lat, lng);

CREATE TABLE menu_items (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  merchant_id  uuid NOT NULL REFERENCES merchants (id),
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  price_cents  integer NOT NULL CHECK (price_cents > 0),
  category     text NOT NULL DEFAULT 'Mains',
  is_available boolean NOT NULL DEFAULT true,
  -- Ordered items keep pointing at their menu item, so removal is a mark, not a delete.
  deleted_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX menu_items_merchant_idx ON menu_items (merchant_id) WHERE deleted_at IS NULL;

CREATE TABLE drivers (
  id                  uuid PRIMARY KEY REFERENCES users (id),
  vehicle_type        text NOT NULL CHECK (vehicle_type IN ('bicycle', 'scooter', 'car')),
  status              text NOT NULL DEFAULT 'offline' CHECK (status IN ('offline', 'online')),
  rating              real CHECK (rating BETWEEN 1 AND 5),
  rating_count        integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
  total_deliveries    integer NOT NULL DEFAULT 0 CHECK (total_deliveries >= 0),
  offers_received     integer NOT NULL DEFAULT 0 CHECK (offers_received >= 0),
  offers_accepted     integer NOT NULL DEFAULT 0 CHECK (offers_accepted >= 0),
  active_orders       integer NOT NULL DEFAULT 0 CHECK (active_orders >= 0),
  max_active_orders   integer NOT NULL DEFAULT 2 CHECK (max_active_orders BETWEEN 1 AND 10),
  current_lat         double precision CHECK (current_lat BETWEEN -90 AND 90),
  current_lng         double precision CHECK (current_lng BETWEEN -180 AND 180),
  location_updated_at timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX drivers_online_idx ON drivers (status) WHERE status = 'online';

CREATE TABLE orders (
  id                 uuid NOT NULL DEFAULT gen_random_uuid(),
  -- Millisecond precision, so the value survives a round trip through a JavaScript Date
  -- (order_items' foreign key and the list cursor carry it).
  created_at         timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  customer_id        uuid NOT NULL REFERENCES users (id),
  merchant_id        uuid NOT NULL REFERENCES merchants (id),
  driver_id          uuid REFERENCES drivers (id),
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN
                       ('pending', 'confirmed', 'preparing', 'ready_for_pickup',
                        'picked_up', 'delivered', 'cancelled')),
  delivery_address   text NOT NULL,
  delivery_lat       double precision NOT NULL CHECK (delivery_lat BETWEEN -90 AND 90),
  delivery_lng       double precision NOT NULL CHECK (delivery_lng BETWEEN -180 AND 180),
  notes              text,
  distance_km        double precision NOT NULL CHECK (distance_km >= 0),
  subtotal_cents     integer NOT NULL CHECK (subtotal_cents > 0),
  delivery_fee_cents integer NOT NULL CHECK (delivery_fee_cents >= 0),
  tip_cents          integer NOT NULL DEFAULT 0 CHECK (tip_cents >= 0),
  total_cents        integer NOT NULL,
  cancel_reason      text,
  cancelled_by       text CHECK (cancelled_by IN ('customer', 'merchant', 'admin', 'system')),
  confirmed_at       timestamptz,
  preparing_at       timestamptz,
  ready_at           timestamptz,
  assigned_at        timestamptz,
  picked_up_at       timestamptz,
  delivered_at       timestamptz,
  cancelled_at       timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, created_at),
  CHECK (total_cents = subtotal_cents + delivery_fee_cents + tip_cents)
) PARTITION BY RANGE (created_at);
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC);
CREATE INDEX orders_merchant_idx ON orders (merchant_id, created_at DESC);
CREATE INDEX orders_driver_idx ON orders (driver_id, created_at DESC) WHERE driver_id IS NOT NULL;
CREATE INDEX orders_status_idx ON orders (status, created_at);
-- Catches a row whose month has no partition yet (the partitions job creates them ahead).
CREATE TABLE orders_default PARTITION OF orders DEFAULT;

CREATE TABLE order_items (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id         uuid NOT NULL,
  order_created_at timestamptz NOT NULL,
  menu_item_id     uuid NOT NULL REFERENCES menu_items (id),
  name             text NOT NULL,
  quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 50),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  FOREIGN KEY (order_id, order_created_at) REFERENCES orders (id, created_at) ON DELETE CASCADE
);
CREATE INDEX order_items_order_idx ON order_items (order_id);

-- Audit of every transition; kept apart from orders so it outlives their archival.
CREATE TABLE order_events (
  id          bigserial PRIMARY KEY,
  order_id    uuid NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  actor_id    uuid,
  actor_role  text NOT NULL,
  reason      text,
  data        jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);
CREATE INDEX order_events_created_idx ON order_events (created_at);

CREATE TABLE idempotency_keys (
  user_id         uuid NOT NULL REFERENCES users (id),
  key             varchar(64) NOT NULL,
  scope           text NOT NULL,
  request_hash    text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed')),
  response_status integer,
  response_body   jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz,
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idx_idempotency_created ON idempotency_keys (created_at);

CREATE TABLE ratings (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id    uuid NOT NULL,
  rater_id    uuid NOT NULL REFERENCES users (id),
  ratee_kind  text NOT NULL CHECK (ratee_kind IN ('driver', 'merchant', 'customer')),
  ratee_id    uuid NOT NULL,
  stars       smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
  comment     text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, ratee_kind)
);
CREATE INDEX ratings_ratee_idx ON ratings (ratee_kind, ratee_id);

CREATE TABLE driver_offers (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id       uuid NOT NULL,
  driver_id      uuid NOT NULL REFERENCES drivers (id),
  status         text NOT NULL DEFAULT 'pending' CHECK (status IN
                   ('pending', 'accepted', 'rejected', 'expired', 'cancelled')),
  score          double precision NOT NULL,
  distance_km    double precision NOT NULL,
  earnings_cents integer NOT NULL CHECK (earnings_cents >= 0),
  offered_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  responded_at   timestamptz
);
-- The database, not luck, decides races: one pending offer per order and per driver.
CREATE UNIQUE INDEX driver_offers_one_pending_per_order ON driver_offers (order_id) WHERE status = 'pending';
CREATE UNIQUE INDEX driver_offers_one_pending_per_driver ON driver_offers (driver_id) WHERE status = 'pending';
CREATE INDEX driver_offers_order_idx ON driver_offers (order_id);
CREATE INDEX driver_offers_due_idx ON driver_offers (expires_at) WHERE status = 'pending';

CREATE TABLE driver_location_history (
  driver_id   uuid NOT NULL,
  lat         double precision NOT NULL,
  lng         double precision NOT NULL,
  heading     real,
  speed_mps   real,
  accuracy_m  real,
  recorded_at timestamptz NOT NULL
) PARTITION BY RANGE (recorded_at);
CREATE INDEX driver_location_history_idx ON driver_location_history (driver_id, recorded_at);
CREATE TABLE driver_location_history_default PARTITION OF driver_location_history DEFAULT;

CREATE TABLE notifications (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users (id),
  type       text NOT NULL,
  title      text NOT NULL,
  body       text NOT NULL,
  order_id   uuid,
  data       jsonb,
  read_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);

-- Great-circle distance in kilometres (mean Earth radius 6371 km); no PostGIS needed.
CREATE FUNCTION haversine_km(lat1 double precision, lng1 double precision,
                             lat2 double precision, lng2 double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 2 * 6371 * asin(sqrt(
    power(sin(radians(lat2 - lat1) / 2), 2) +
    cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lng2 - lng1) / 2), 2)))
$$;

-- Creates the range partitions of `parent` covering `count` periods ('month' or 'day') from the
-- one holding `start`. Existing partitions are left alone; a period whose rows already sit in the
-- default partition is skipped (attaching it would fail) and reported by the caller's check.
CREATE FUNCTION ensure_range_partitions(parent text, period text, start timestamptz, count integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  lower_bound timestamptz := date_trunc(period, start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  upper_bound timestamptz;
  part_name   text;
  created     integer := 0;
  in_default  boolean;
BEGIN
  FOR i IN 1..count LOOP
    upper_bound := ((lower_bound AT TIME ZONE 'UTC') + ('1 ' || period)::interval) AT TIME ZONE 'UTC';
    part_name := parent || '_' || to_char(lower_bound AT TIME ZONE 'UTC',
                   CASE period WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY_MM_DD' END);
    IF to_regclass(part_name) IS NULL THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)',
                     parent || '_default',
                     CASE parent WHEN 'orders' THEN 'created_at' ELSE 'recorded_at' END,
                     CASE parent WHEN 'orders' THEN 'created_at' ELSE 'recorded_at' END)
        INTO in_default USING lower_bound, upper_bound;
      IF NOT in_default THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       part_name, parent, lower_bound, upper_bound);
        created := created + 1;
      END IF;
    END IF;
    lower_bound := upper_bound;
  END LOOP;
  RETURN created;
END $$;

SELECT ensure_range_partitions('orders', 'month', now() - interval '1 month', 5);
SELECT ensure_range_partitions('driver_location_history', 'day', now() - interval '1 day', 10);
