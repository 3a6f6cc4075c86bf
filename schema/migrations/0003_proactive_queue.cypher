// The proactive queue reads each kind of due item in order of its due time: parcels by the
// promised time, returns by the time they were received (cases use case_opened_at).
CREATE RANGE INDEX shipment_promised_at IF NOT EXISTS FOR (n:Shipment) ON (n.promisedAt);
CREATE RANGE INDEX return_received_at IF NOT EXISTS FOR (n:Return) ON (n.receivedAt);
