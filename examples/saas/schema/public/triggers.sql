-- updated_at on every shared table that has one.
CREATE TRIGGER admins_updated_at BEFORE UPDATE ON admins FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER enterprise_datasources_updated_at BEFORE UPDATE ON enterprise_datasources FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER enterprise_module_access_updated_at BEFORE UPDATE ON enterprise_module_access FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER enterprise_onboarding_progress_updated_at BEFORE UPDATE ON enterprise_onboarding_progress FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER enterprises_updated_at BEFORE UPDATE ON enterprises FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER modules_updated_at BEFORE UPDATE ON modules FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER trials_updated_at BEFORE UPDATE ON trials FOR EACH ROW EXECUTE FUNCTION set_updated_at();
