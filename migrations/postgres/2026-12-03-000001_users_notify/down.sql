DROP TRIGGER users_changed ON users;
DROP FUNCTION rectify_users_changed();
