-- A delivery accepted by the SMTP server ends the subscriber's run of
-- failures. Done by the database in the same statement as the mark, so that
-- MarkSent is one autocommit UPDATE: the hot path of a send.
CREATE TRIGGER deliveries_sent_resets_failures
AFTER UPDATE OF status ON deliveries
WHEN NEW.status = 'sent' AND OLD.status <> 'sent'
BEGIN
    UPDATE subscribers SET consecutive_failures = 0
    WHERE id = NEW.subscriber_id AND consecutive_failures <> 0;
END;
