-- Every change to a user row, whoever makes it (an instance, the CLI, a manual UPDATE), tells
-- every instance to forget the users it keeps in memory (`auth::cache`): `NOTIFY` is sent with
-- the commit, and not at all on a rollback. One notification per statement; the payload is
-- empty (instances empty their whole cache: user changes are rare).
CREATE FUNCTION rectify_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rectify_users', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER users_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION rectify_users_changed();
