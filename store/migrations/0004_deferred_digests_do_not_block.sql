-- A digest whose only pending deliveries are deferred (a temporary failure
-- after the mailer's retries, attempts counted) no longer holds back the next
-- one: several digests may be sending at once, each resumed by the next send
-- until its deferred deliveries go out or fail at the attempt limit.
-- CreateDigest still refuses a new digest while one has a pending delivery
-- never tried (attempts = 0: a send interrupted or stopped by an outage),
-- which an index cannot express, so the unique index goes.
DROP INDEX digests_one_sending;
