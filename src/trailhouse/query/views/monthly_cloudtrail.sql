SELECT * FROM cloudtrail
WHERE event_date > (SELECT max(event_date) FROM cloudtrail) - 30
