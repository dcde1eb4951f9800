-- Events the projector could not apply, parked so that they hold up nothing else.
--
-- One row per event (its stream and version: the key of the event in the log), with the
-- error. The event itself stays in the log; a redrive projects the stream again and removes
-- its rows once the read model holds them. Replay fills the same table in the schema it
-- builds, with the events it could not project.

CREATE TABLE {schema}.parked_events (
    stream    text        NOT NULL,
    version   integer     NOT NULL CHECK (version >= 0),  -- 0: a stream item with no version
    event_id  text,
    error     text        NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, version)
);
