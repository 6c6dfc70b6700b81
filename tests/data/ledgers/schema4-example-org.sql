BEGIN TRANSACTION;
CREATE TABLE action_items (
	pair_key VARCHAR(400) NOT NULL, 
	id VARCHAR(40) NOT NULL, 
	text TEXT NOT NULL, 
	"key" TEXT NOT NULL, 
	state VARCHAR(10) NOT NULL, 
	first_agenda VARCHAR(10) NOT NULL, 
	last_agenda VARCHAR(10) NOT NULL, 
	decided_in VARCHAR(10), 
	done_at VARCHAR(40), 
	history TEXT NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	updated_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (pair_key, id)
);
CREATE TABLE agenda_docs (
	pair_key VARCHAR(400) NOT NULL, 
	session_date VARCHAR(10) NOT NULL, 
	week VARCHAR(8) NOT NULL, 
	kind VARCHAR(10) NOT NULL, 
	start VARCHAR(40) NOT NULL, 
	"end" VARCHAR(40) NOT NULL, 
	ref TEXT, 
	url TEXT, 
	title TEXT NOT NULL, 
	excerpt TEXT NOT NULL, 
	state VARCHAR(10) NOT NULL, 
	items TEXT NOT NULL, 
	body TEXT, 
	created_at VARCHAR(40) NOT NULL, 
	written_at VARCHAR(40), 
	read_at VARCHAR(40), 
	PRIMARY KEY (pair_key, session_date), 
	CONSTRAINT one_agenda_per_session UNIQUE (pair_key, week, kind)
);
INSERT INTO "agenda_docs" VALUES('marco@acme.example/ana@acme.example','2027-01-05','2027-W01','series','2027-01-05T10:00:00-05:00','2027-01-05T10:30:00-05:00','marco@acme.example/ana@acme.example/2027-01-05.md','http://127.0.0.1:8321/agendas/2823a32e4a8837d75f77a5988654ae6e/marco@acme.example/ana@acme.example/2027-01-05','1:1 Marco / Ana: agenda for Tue 5 Jan 2027','Ana prepares it before the 1:1.','closed','[]',NULL,'2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00');
INSERT INTO "agenda_docs" VALUES('marco@acme.example/liam@acme.example','2027-01-04','2027-W01','series','2027-01-04T09:00:00-05:00','2027-01-04T09:30:00-05:00','marco@acme.example/liam@acme.example/2027-01-04.md','http://127.0.0.1:8321/agendas/aae3cabf57c6c733ead9e7e9825b08f6/marco@acme.example/liam@acme.example/2027-01-04','1:1 Marco / Liam: agenda for Mon 4 Jan 2027','Liam prepares it before the 1:1.','closed','[]',NULL,'2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00');
INSERT INTO "agenda_docs" VALUES('marco@acme.example/sam@acme.example','2027-01-05','2027-W01','series','2027-01-05T10:30:00-05:00','2027-01-05T11:00:00-05:00','marco@acme.example/sam@acme.example/2027-01-05.md','http://127.0.0.1:8321/agendas/096cdacde2e74ca2b5e82d9965784879/marco@acme.example/sam@acme.example/2027-01-05','1:1 Marco / Sam: agenda for Tue 5 Jan 2027','Sam prepares it before the 1:1.','closed','[]',NULL,'2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00');
INSERT INTO "agenda_docs" VALUES('dana@acme.example/raj@acme.example','2027-01-05','2027-W01','series','2027-01-05T10:00:00-06:00','2027-01-05T10:30:00-06:00','dana@acme.example/raj@acme.example/2027-01-05.md','http://127.0.0.1:8321/agendas/c44b89ab8320f8d8353112aeaf9160a7/dana@acme.example/raj@acme.example/2027-01-05','1:1 Dana / Raj: agenda for Tue 5 Jan 2027','Raj prepares it before the 1:1.','closed','[]',NULL,'2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00');
INSERT INTO "agenda_docs" VALUES('dana@acme.example/lucia@acme.example','2027-01-05','2027-W01','series','2027-01-05T13:00:00-06:00','2027-01-05T13:30:00-06:00','dana@acme.example/lucia@acme.example/2027-01-05.md','http://127.0.0.1:8321/agendas/9a6bb666d210ecb0cb72d14521124512/dana@acme.example/lucia@acme.example/2027-01-05','1:1 Dana / Lucia: agenda for Tue 5 Jan 2027','Lucia prepares it before the 1:1.','closed','[]',NULL,'2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00');
INSERT INTO "agenda_docs" VALUES('dana@acme.example/tom@acme.example','2027-01-05','2027-W01','series','2027-01-05T10:30:00-06:00','2027-01-05T11:00:00-06:00','dana@acme.example/tom@acme.example/2027-01-05.md','http://127.0.0.1:8321/agendas/ddfbdad056d773d5b896e1d0c0234207/dana@acme.example/tom@acme.example/2027-01-05','1:1 Dana / Tom: agenda for Tue 5 Jan 2027','Tom prepares it before the 1:1.','closed','[]',NULL,'2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00');
INSERT INTO "agenda_docs" VALUES('marco@acme.example/ana@acme.example','2027-01-12','2027-W02','series','2027-01-12T10:00:00-05:00','2027-01-12T10:30:00-05:00','marco@acme.example/ana@acme.example/2027-01-12.md','http://127.0.0.1:8321/agendas/1219e9d2c45a52f4e4afba55768cd570/marco@acme.example/ana@acme.example/2027-01-12','1:1 Marco / Ana: agenda for Tue 12 Jan 2027','Ana prepares it before the 1:1.','written','[]',NULL,'2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "agenda_docs" VALUES('marco@acme.example/liam@acme.example','2027-01-11','2027-W02','series','2027-01-11T09:00:00-05:00','2027-01-11T09:30:00-05:00','marco@acme.example/liam@acme.example/2027-01-11.md','http://127.0.0.1:8321/agendas/136f3f15e06a0c4d75aa18324caa0431/marco@acme.example/liam@acme.example/2027-01-11','1:1 Marco / Liam: agenda for Mon 11 Jan 2027','Liam prepares it before the 1:1.','written','[]',NULL,'2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "agenda_docs" VALUES('marco@acme.example/sam@acme.example','2027-01-12','2027-W02','series','2027-01-12T10:30:00-05:00','2027-01-12T11:00:00-05:00','marco@acme.example/sam@acme.example/2027-01-12.md','http://127.0.0.1:8321/agendas/cbf4c6f891cc3a117771b2123e9ae56a/marco@acme.example/sam@acme.example/2027-01-12','1:1 Marco / Sam: agenda for Tue 12 Jan 2027','Sam prepares it before the 1:1.','written','[]',NULL,'2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "agenda_docs" VALUES('dana@acme.example/raj@acme.example','2027-01-12','2027-W02','series','2027-01-12T10:00:00-06:00','2027-01-12T10:30:00-06:00','dana@acme.example/raj@acme.example/2027-01-12.md','http://127.0.0.1:8321/agendas/957e3c8802b0a3cdeaeba58e53d07a11/dana@acme.example/raj@acme.example/2027-01-12','1:1 Dana / Raj: agenda for Tue 12 Jan 2027','Raj prepares it before the 1:1.','written','[]',NULL,'2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "agenda_docs" VALUES('dana@acme.example/lucia@acme.example','2027-01-12','2027-W02','series','2027-01-12T13:00:00-06:00','2027-01-12T13:30:00-06:00','dana@acme.example/lucia@acme.example/2027-01-12.md','http://127.0.0.1:8321/agendas/2d1cd1772102ed9d846cfc8ed6a68d18/dana@acme.example/lucia@acme.example/2027-01-12','1:1 Dana / Lucia: agenda for Tue 12 Jan 2027','Lucia prepares it before the 1:1.','written','[]',NULL,'2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "agenda_docs" VALUES('dana@acme.example/tom@acme.example','2027-01-12','2027-W02','series','2027-01-12T10:30:00-06:00','2027-01-12T11:00:00-06:00','dana@acme.example/tom@acme.example/2027-01-12.md','http://127.0.0.1:8321/agendas/34fa17e4a1119e8c99996a6946c59db3/dana@acme.example/tom@acme.example/2027-01-12','1:1 Dana / Tom: agenda for Tue 12 Jan 2027','Tom prepares it before the 1:1.','written','[]',NULL,'2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
CREATE TABLE copies (
	uid VARCHAR(200) NOT NULL, 
	owner VARCHAR(200) NOT NULL, 
	pair_key VARCHAR(400) NOT NULL, 
	version TEXT, 
	fingerprint VARCHAR(80) NOT NULL, 
	baseline TEXT NOT NULL, 
	written_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (uid, owner)
);
INSERT INTO "copies" VALUES('oneonone-4f8390c9-a3e1-508e-86e1-31b64f5d6c89','vera@acme.example','vera@acme.example/marco@acme.example','c0945bb6fd5d9df6ac1a08fbcfa142bf84b93696d228aed3e39d35bdce29e37b','3eab6b405ae1130d698eab90d25c409b','{"at": "14:00", "minutes": 45, "timezone": "America/New_York", "weekday": 3, "weeks": {"2027-W01": ["2027-01-07T14:00:00-05:00", "2027-01-07T14:45:00-05:00", false], "2027-W02": ["2027-01-14T14:00:00-05:00", "2027-01-14T14:45:00-05:00", false], "2027-W03": ["2027-01-21T14:00:00-05:00", "2027-01-21T14:45:00-05:00", false], "2027-W04": ["2027-01-28T14:00:00-05:00", "2027-01-28T14:45:00-05:00", true], "2027-W05": ["2027-02-04T14:00:00-05:00", "2027-02-04T14:45:00-05:00", false], "2027-W06": ["2027-02-11T14:00:00-05:00", "2027-02-11T14:45:00-05:00", false]}}','2027-01-04T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-4f8390c9-a3e1-508e-86e1-31b64f5d6c89','marco@acme.example','vera@acme.example/marco@acme.example','c0945bb6fd5d9df6ac1a08fbcfa142bf84b93696d228aed3e39d35bdce29e37b','3eab6b405ae1130d698eab90d25c409b','{"at": "14:00", "minutes": 45, "timezone": "America/New_York", "weekday": 3, "weeks": {"2027-W01": ["2027-01-07T14:00:00-05:00", "2027-01-07T14:45:00-05:00", false], "2027-W02": ["2027-01-14T14:00:00-05:00", "2027-01-14T14:45:00-05:00", false], "2027-W03": ["2027-01-21T14:00:00-05:00", "2027-01-21T14:45:00-05:00", false], "2027-W04": ["2027-01-28T14:00:00-05:00", "2027-01-28T14:45:00-05:00", true], "2027-W05": ["2027-02-04T14:00:00-05:00", "2027-02-04T14:45:00-05:00", false], "2027-W06": ["2027-02-11T14:00:00-05:00", "2027-02-11T14:45:00-05:00", false]}}','2027-01-04T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-8f7babc6-fa47-5ccf-bb06-8b89468066cc','vera@acme.example','vera@acme.example/dana@acme.example','b88dbd939c2f6877bf38fa09339de9b18f0a31a2ab97f91e4bbc0b6f39faebcc','7ca079bb249e50f8b47b2fadd81eeb66','{"at": "14:45", "minutes": 45, "timezone": "America/New_York", "weekday": 3, "weeks": {"2027-W01": ["2027-01-07T14:45:00-05:00", "2027-01-07T15:30:00-05:00", false], "2027-W02": ["2027-01-14T14:45:00-05:00", "2027-01-14T15:30:00-05:00", false], "2027-W03": ["2027-01-21T14:45:00-05:00", "2027-01-21T15:30:00-05:00", false], "2027-W04": ["2027-01-28T14:45:00-05:00", "2027-01-28T15:30:00-05:00", true], "2027-W05": ["2027-02-04T14:45:00-05:00", "2027-02-04T15:30:00-05:00", false], "2027-W06": ["2027-02-11T14:45:00-05:00", "2027-02-11T15:30:00-05:00", false]}}','2027-01-04T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-8f7babc6-fa47-5ccf-bb06-8b89468066cc','dana@acme.example','vera@acme.example/dana@acme.example','b88dbd939c2f6877bf38fa09339de9b18f0a31a2ab97f91e4bbc0b6f39faebcc','7ca079bb249e50f8b47b2fadd81eeb66','{"at": "14:45", "minutes": 45, "timezone": "America/New_York", "weekday": 3, "weeks": {"2027-W01": ["2027-01-07T14:45:00-05:00", "2027-01-07T15:30:00-05:00", false], "2027-W02": ["2027-01-14T14:45:00-05:00", "2027-01-14T15:30:00-05:00", false], "2027-W03": ["2027-01-21T14:45:00-05:00", "2027-01-21T15:30:00-05:00", false], "2027-W04": ["2027-01-28T14:45:00-05:00", "2027-01-28T15:30:00-05:00", true], "2027-W05": ["2027-02-04T14:45:00-05:00", "2027-02-04T15:30:00-05:00", false], "2027-W06": ["2027-02-11T14:45:00-05:00", "2027-02-11T15:30:00-05:00", false]}}','2027-01-04T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-7d99edf3-813f-50f4-a1c4-6ca4248b00e9','marco@acme.example','marco@acme.example/ana@acme.example','2da626ca4dc346ae07682cf08e591caf588d6727a171bf03ca6b80e8859d9f92','730d1e7e78fe175670b18f7a6c69ce93','{"at": "10:00", "minutes": 30, "timezone": "America/New_York", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T10:00:00-05:00", "2027-01-05T10:30:00-05:00", false], "2027-W02": ["2027-01-12T10:00:00-05:00", "2027-01-12T10:30:00-05:00", false], "2027-W03": ["2027-01-19T10:00:00-05:00", "2027-01-19T10:30:00-05:00", false], "2027-W04": ["2027-01-26T10:00:00-05:00", "2027-01-26T10:30:00-05:00", true], "2027-W05": ["2027-02-02T10:00:00-05:00", "2027-02-02T10:30:00-05:00", false], "2027-W06": ["2027-02-09T10:00:00-05:00", "2027-02-09T10:30:00-05:00", false], "2027-W07": ["2027-02-16T10:00:00-05:00", "2027-02-16T10:30:00-05:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-7d99edf3-813f-50f4-a1c4-6ca4248b00e9','ana@acme.example','marco@acme.example/ana@acme.example','2da626ca4dc346ae07682cf08e591caf588d6727a171bf03ca6b80e8859d9f92','730d1e7e78fe175670b18f7a6c69ce93','{"at": "10:00", "minutes": 30, "timezone": "America/New_York", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T10:00:00-05:00", "2027-01-05T10:30:00-05:00", false], "2027-W02": ["2027-01-12T10:00:00-05:00", "2027-01-12T10:30:00-05:00", false], "2027-W03": ["2027-01-19T10:00:00-05:00", "2027-01-19T10:30:00-05:00", false], "2027-W04": ["2027-01-26T10:00:00-05:00", "2027-01-26T10:30:00-05:00", true], "2027-W05": ["2027-02-02T10:00:00-05:00", "2027-02-02T10:30:00-05:00", false], "2027-W06": ["2027-02-09T10:00:00-05:00", "2027-02-09T10:30:00-05:00", false], "2027-W07": ["2027-02-16T10:00:00-05:00", "2027-02-16T10:30:00-05:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-059d1d5a-9a5f-5f15-960c-9cd9ad385da1','marco@acme.example','marco@acme.example/liam@acme.example','1039405c1ad8fe426a72cae271f321da85a1e5b5a4dd32b4c9ad416bddab8521','9dbd111e76c8ba4eae1b71b9027019eb','{"at": "09:00", "minutes": 30, "timezone": "America/New_York", "weekday": 0, "weeks": {"2027-W01": ["2027-01-04T09:00:00-05:00", "2027-01-04T09:30:00-05:00", false], "2027-W02": ["2027-01-11T09:00:00-05:00", "2027-01-11T09:30:00-05:00", false], "2027-W03": ["2027-01-19T14:00:00+00:00", "2027-01-19T14:30:00+00:00", false], "2027-W04": ["2027-01-25T09:00:00-05:00", "2027-01-25T09:30:00-05:00", true], "2027-W05": ["2027-02-01T09:00:00-05:00", "2027-02-01T09:30:00-05:00", false], "2027-W06": ["2027-02-08T09:00:00-05:00", "2027-02-08T09:30:00-05:00", false], "2027-W07": ["2027-02-16T14:00:00+00:00", "2027-02-16T14:30:00+00:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-059d1d5a-9a5f-5f15-960c-9cd9ad385da1','liam@acme.example','marco@acme.example/liam@acme.example','1039405c1ad8fe426a72cae271f321da85a1e5b5a4dd32b4c9ad416bddab8521','9dbd111e76c8ba4eae1b71b9027019eb','{"at": "09:00", "minutes": 30, "timezone": "America/New_York", "weekday": 0, "weeks": {"2027-W01": ["2027-01-04T09:00:00-05:00", "2027-01-04T09:30:00-05:00", false], "2027-W02": ["2027-01-11T09:00:00-05:00", "2027-01-11T09:30:00-05:00", false], "2027-W03": ["2027-01-19T14:00:00+00:00", "2027-01-19T14:30:00+00:00", false], "2027-W04": ["2027-01-25T09:00:00-05:00", "2027-01-25T09:30:00-05:00", true], "2027-W05": ["2027-02-01T09:00:00-05:00", "2027-02-01T09:30:00-05:00", false], "2027-W06": ["2027-02-08T09:00:00-05:00", "2027-02-08T09:30:00-05:00", false], "2027-W07": ["2027-02-16T14:00:00+00:00", "2027-02-16T14:30:00+00:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-6b56ea4b-4ecc-5e82-aa4a-3feb04186af6','marco@acme.example','marco@acme.example/sam@acme.example','84320844bb6aa9ce421332b77d13d61046670cb3429f3c1a5581d46182a0841b','45228818576a6ea9ac26e1248c664271','{"at": "10:30", "minutes": 30, "timezone": "America/New_York", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T10:30:00-05:00", "2027-01-05T11:00:00-05:00", false], "2027-W02": ["2027-01-12T10:30:00-05:00", "2027-01-12T11:00:00-05:00", false], "2027-W03": ["2027-01-19T10:30:00-05:00", "2027-01-19T11:00:00-05:00", false], "2027-W04": ["2027-01-26T10:30:00-05:00", "2027-01-26T11:00:00-05:00", true], "2027-W05": ["2027-02-02T10:30:00-05:00", "2027-02-02T11:00:00-05:00", false], "2027-W06": ["2027-02-09T10:30:00-05:00", "2027-02-09T11:00:00-05:00", false], "2027-W07": ["2027-02-16T10:30:00-05:00", "2027-02-16T11:00:00-05:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-6b56ea4b-4ecc-5e82-aa4a-3feb04186af6','sam@acme.example','marco@acme.example/sam@acme.example','84320844bb6aa9ce421332b77d13d61046670cb3429f3c1a5581d46182a0841b','45228818576a6ea9ac26e1248c664271','{"at": "10:30", "minutes": 30, "timezone": "America/New_York", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T10:30:00-05:00", "2027-01-05T11:00:00-05:00", false], "2027-W02": ["2027-01-12T10:30:00-05:00", "2027-01-12T11:00:00-05:00", false], "2027-W03": ["2027-01-19T10:30:00-05:00", "2027-01-19T11:00:00-05:00", false], "2027-W04": ["2027-01-26T10:30:00-05:00", "2027-01-26T11:00:00-05:00", true], "2027-W05": ["2027-02-02T10:30:00-05:00", "2027-02-02T11:00:00-05:00", false], "2027-W06": ["2027-02-09T10:30:00-05:00", "2027-02-09T11:00:00-05:00", false], "2027-W07": ["2027-02-16T10:30:00-05:00", "2027-02-16T11:00:00-05:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-d6c36840-ce4e-55a9-9c8a-d64250d228ae','dana@acme.example','dana@acme.example/raj@acme.example','f720fdb79c24bd2cf4fdb7b7a083d1dfa9f69650bea5cbd5ed536fae986c4a27','68fb34788582dcb041ef0eb93160f3a5','{"at": "10:00", "minutes": 30, "timezone": "America/Chicago", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T10:00:00-06:00", "2027-01-05T10:30:00-06:00", false], "2027-W02": ["2027-01-12T10:00:00-06:00", "2027-01-12T10:30:00-06:00", false], "2027-W03": ["2027-01-19T10:00:00-06:00", "2027-01-19T10:30:00-06:00", false], "2027-W04": ["2027-01-26T10:00:00-06:00", "2027-01-26T10:30:00-06:00", true], "2027-W05": ["2027-02-02T10:00:00-06:00", "2027-02-02T10:30:00-06:00", false], "2027-W06": ["2027-02-09T10:00:00-06:00", "2027-02-09T10:30:00-06:00", false], "2027-W07": ["2027-02-16T10:00:00-06:00", "2027-02-16T10:30:00-06:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-d6c36840-ce4e-55a9-9c8a-d64250d228ae','raj@acme.example','dana@acme.example/raj@acme.example','f720fdb79c24bd2cf4fdb7b7a083d1dfa9f69650bea5cbd5ed536fae986c4a27','68fb34788582dcb041ef0eb93160f3a5','{"at": "10:00", "minutes": 30, "timezone": "America/Chicago", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T10:00:00-06:00", "2027-01-05T10:30:00-06:00", false], "2027-W02": ["2027-01-12T10:00:00-06:00", "2027-01-12T10:30:00-06:00", false], "2027-W03": ["2027-01-19T10:00:00-06:00", "2027-01-19T10:30:00-06:00", false], "2027-W04": ["2027-01-26T10:00:00-06:00", "2027-01-26T10:30:00-06:00", true], "2027-W05": ["2027-02-02T10:00:00-06:00", "2027-02-02T10:30:00-06:00", false], "2027-W06": ["2027-02-09T10:00:00-06:00", "2027-02-09T10:30:00-06:00", false], "2027-W07": ["2027-02-16T10:00:00-06:00", "2027-02-16T10:30:00-06:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-dafb7c55-266e-5b98-b993-d12fcd66c07a','dana@acme.example','dana@acme.example/lucia@acme.example','73ac8b8d10f8fa5315699d40b84f5a233dc97c09bd8dbeafdec0f9e33228c9f9','107c2ecd9271022939f3119efff69c6b','{"at": "13:00", "minutes": 30, "timezone": "America/Chicago", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T13:00:00-06:00", "2027-01-05T13:30:00-06:00", false], "2027-W02": ["2027-01-12T13:00:00-06:00", "2027-01-12T13:30:00-06:00", false], "2027-W03": ["2027-01-19T13:00:00-06:00", "2027-01-19T13:30:00-06:00", false], "2027-W04": ["2027-01-26T13:00:00-06:00", "2027-01-26T13:30:00-06:00", true], "2027-W05": ["2027-02-02T13:00:00-06:00", "2027-02-02T13:30:00-06:00", false], "2027-W06": ["2027-02-09T13:00:00-06:00", "2027-02-09T13:30:00-06:00", false], "2027-W07": ["2027-02-16T13:00:00-06:00", "2027-02-16T13:30:00-06:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-dafb7c55-266e-5b98-b993-d12fcd66c07a','lucia@acme.example','dana@acme.example/lucia@acme.example','73ac8b8d10f8fa5315699d40b84f5a233dc97c09bd8dbeafdec0f9e33228c9f9','107c2ecd9271022939f3119efff69c6b','{"at": "13:00", "minutes": 30, "timezone": "America/Chicago", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T13:00:00-06:00", "2027-01-05T13:30:00-06:00", false], "2027-W02": ["2027-01-12T13:00:00-06:00", "2027-01-12T13:30:00-06:00", false], "2027-W03": ["2027-01-19T13:00:00-06:00", "2027-01-19T13:30:00-06:00", false], "2027-W04": ["2027-01-26T13:00:00-06:00", "2027-01-26T13:30:00-06:00", true], "2027-W05": ["2027-02-02T13:00:00-06:00", "2027-02-02T13:30:00-06:00", false], "2027-W06": ["2027-02-09T13:00:00-06:00", "2027-02-09T13:30:00-06:00", false], "2027-W07": ["2027-02-16T13:00:00-06:00", "2027-02-16T13:30:00-06:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-81a00bcd-1674-5393-9f21-d08d158e3f9b','dana@acme.example','dana@acme.example/tom@acme.example','382f417cea15a16cd7ae69468492fe4d7641ba908463b09f90cb732f05915b4c','75d5e09adfd9b0a3ff0d08a202e2ffe9','{"at": "10:30", "minutes": 30, "timezone": "America/Chicago", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T10:30:00-06:00", "2027-01-05T11:00:00-06:00", false], "2027-W02": ["2027-01-12T10:30:00-06:00", "2027-01-12T11:00:00-06:00", false], "2027-W03": ["2027-01-19T10:30:00-06:00", "2027-01-19T11:00:00-06:00", false], "2027-W04": ["2027-01-26T10:30:00-06:00", "2027-01-26T11:00:00-06:00", true], "2027-W05": ["2027-02-02T10:30:00-06:00", "2027-02-02T11:00:00-06:00", false], "2027-W06": ["2027-02-09T10:30:00-06:00", "2027-02-09T11:00:00-06:00", false], "2027-W07": ["2027-02-16T10:30:00-06:00", "2027-02-16T11:00:00-06:00", false]}}','2027-01-11T08:00:00-05:00');
INSERT INTO "copies" VALUES('oneonone-81a00bcd-1674-5393-9f21-d08d158e3f9b','tom@acme.example','dana@acme.example/tom@acme.example','382f417cea15a16cd7ae69468492fe4d7641ba908463b09f90cb732f05915b4c','75d5e09adfd9b0a3ff0d08a202e2ffe9','{"at": "10:30", "minutes": 30, "timezone": "America/Chicago", "weekday": 1, "weeks": {"2027-W01": ["2027-01-05T10:30:00-06:00", "2027-01-05T11:00:00-06:00", false], "2027-W02": ["2027-01-12T10:30:00-06:00", "2027-01-12T11:00:00-06:00", false], "2027-W03": ["2027-01-19T10:30:00-06:00", "2027-01-19T11:00:00-06:00", false], "2027-W04": ["2027-01-26T10:30:00-06:00", "2027-01-26T11:00:00-06:00", true], "2027-W05": ["2027-02-02T10:30:00-06:00", "2027-02-02T11:00:00-06:00", false], "2027-W06": ["2027-02-09T10:30:00-06:00", "2027-02-09T11:00:00-06:00", false], "2027-W07": ["2027-02-16T10:30:00-06:00", "2027-02-16T11:00:00-06:00", false]}}','2027-01-11T08:00:00-05:00');
CREATE TABLE feed_tokens (
	email VARCHAR(200) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	rotated_at VARCHAR(40), 
	PRIMARY KEY (email), 
	UNIQUE (token_hash)
);
CREATE TABLE makeups (
	pair_key VARCHAR(400) NOT NULL, 
	week VARCHAR(8) NOT NULL, 
	uid VARCHAR(200) NOT NULL, 
	start VARCHAR(40) NOT NULL, 
	"end" VARCHAR(40) NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	reason TEXT NOT NULL, 
	pending BOOLEAN NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	updated_at VARCHAR(40) NOT NULL, 
	PRIMARY KEY (pair_key, week)
);
CREATE TABLE meta (
	"key" VARCHAR(200) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "meta" VALUES('schema_version','4');
INSERT INTO "meta" VALUES('agenda_secret','18f16eda04b89ac9ff981a531370986a2c9ef6d92bca0612b84111571565deb3');
INSERT INTO "meta" VALUES('last_pass','2027-01-11T08:00:00-05:00');
CREATE TABLE notices (
	id INTEGER NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	pair_key VARCHAR(400) NOT NULL, 
	week VARCHAR(8) NOT NULL, 
	recipient VARCHAR(400) NOT NULL, 
	decided_at VARCHAR(40) NOT NULL, 
	sent_at VARCHAR(40), 
	message_id VARCHAR(200) NOT NULL, 
	channel VARCHAR(20), 
	raw TEXT, 
	lease_until VARCHAR(40), 
	PRIMARY KEY (id), 
	CONSTRAINT one_notice UNIQUE (kind, pair_key, week, recipient)
);
INSERT INTO "notices" VALUES(1,'prep','marco@acme.example/ana@acme.example','2027-W01','ana@acme.example','2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','<1a221ab7ed72186e8a6bf0b0d35d4f6d@acme.example>','email','From: oneonone@acme.example
To: Ana Alvarez <ana@acme.example>
Subject:
 1:1 Marco Rossi / Ana Alvarez: please prepare the agenda for Tue 05 Jan 10:00
Date: Mon, 04 Jan 2027 08:00:00 -0500
Message-ID: <1a221ab7ed72186e8a6bf0b0d35d4f6d@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_18df6a4cf3d57bf560a057abc05a72a4"

--=_oneonone_18df6a4cf3d57bf560a057abc05a72a4
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Ana,

Your 1:1 with Marco Rossi is on Tue 05 Jan 10:00. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/2823a32e4a8837d75f77a5988654ae6e/m=
arco@acme.example/ana@acme.example/2027-01-05

Marco reads it before the 1:1. The agenda is also linked from the meeting on =
your calendar.

--=_oneonone_18df6a4cf3d57bf560a057abc05a72a4
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Ana,</p>
<p>Your 1:1 with Marco Rossi is on Tue 05 Jan 10:00. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/2823a32e4a8837d75f77a5988654ae6e/=
marco@acme.example/ana@acme.example/2027-01-05">Open your agenda</a></p>
<p>Marco reads it before the 1:1. The agenda is also linked from the meeting =
on your calendar.</p>

--=_oneonone_18df6a4cf3d57bf560a057abc05a72a4--
',NULL);
INSERT INTO "notices" VALUES(2,'prep','marco@acme.example/liam@acme.example','2027-W01','liam@acme.example','2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','<4811283aa938ea108abff10e39894250@acme.example>','email','From: oneonone@acme.example
To: Liam Hughes <liam@acme.example>
Subject:
 1:1 Marco Rossi / Liam Hughes: please prepare the agenda for Mon 04 Jan 14:00
Date: Mon, 04 Jan 2027 08:00:00 -0500
Message-ID: <4811283aa938ea108abff10e39894250@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_d13e06ea9209c970a1ef070bc1023427"

--=_oneonone_d13e06ea9209c970a1ef070bc1023427
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Liam,

Your 1:1 with Marco Rossi is on Mon 04 Jan 14:00. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/aae3cabf57c6c733ead9e7e9825b08f6/m=
arco@acme.example/liam@acme.example/2027-01-04

Marco reads it before the 1:1. The agenda is also linked from the meeting on =
your calendar.

--=_oneonone_d13e06ea9209c970a1ef070bc1023427
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Liam,</p>
<p>Your 1:1 with Marco Rossi is on Mon 04 Jan 14:00. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/aae3cabf57c6c733ead9e7e9825b08f6/=
marco@acme.example/liam@acme.example/2027-01-04">Open your agenda</a></p>
<p>Marco reads it before the 1:1. The agenda is also linked from the meeting =
on your calendar.</p>

--=_oneonone_d13e06ea9209c970a1ef070bc1023427--
',NULL);
INSERT INTO "notices" VALUES(3,'prep','marco@acme.example/sam@acme.example','2027-W01','sam@acme.example','2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','<02853288dbc8a130d31821f56a86db78@acme.example>','email','From: oneonone@acme.example
To: Sam Okafor <sam@acme.example>
Subject:
 1:1 Marco Rossi / Sam Okafor: please prepare the agenda for Tue 05 Jan 10:30
Date: Mon, 04 Jan 2027 08:00:00 -0500
Message-ID: <02853288dbc8a130d31821f56a86db78@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_d91b7d78d18389dd3f5250d5867b1e87"

--=_oneonone_d91b7d78d18389dd3f5250d5867b1e87
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Sam,

Your 1:1 with Marco Rossi is on Tue 05 Jan 10:30. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/096cdacde2e74ca2b5e82d9965784879/m=
arco@acme.example/sam@acme.example/2027-01-05

Marco reads it before the 1:1. The agenda is also linked from the meeting on =
your calendar.

--=_oneonone_d91b7d78d18389dd3f5250d5867b1e87
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Sam,</p>
<p>Your 1:1 with Marco Rossi is on Tue 05 Jan 10:30. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/096cdacde2e74ca2b5e82d9965784879/=
marco@acme.example/sam@acme.example/2027-01-05">Open your agenda</a></p>
<p>Marco reads it before the 1:1. The agenda is also linked from the meeting =
on your calendar.</p>

--=_oneonone_d91b7d78d18389dd3f5250d5867b1e87--
',NULL);
INSERT INTO "notices" VALUES(4,'prep','dana@acme.example/raj@acme.example','2027-W01','raj@acme.example','2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','<2254800ecb4800aef5d9a99849573d47@acme.example>','email','From: oneonone@acme.example
To: Raj Mehta <raj@acme.example>
Subject:
 1:1 Dana Brooks / Raj Mehta: please prepare the agenda for Tue 05 Jan 10:00
Date: Mon, 04 Jan 2027 08:00:00 -0500
Message-ID: <2254800ecb4800aef5d9a99849573d47@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_bbd91d2aef2c768974d572ca87b5e793"

--=_oneonone_bbd91d2aef2c768974d572ca87b5e793
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Raj,

Your 1:1 with Dana Brooks is on Tue 05 Jan 10:00. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/c44b89ab8320f8d8353112aeaf9160a7/d=
ana@acme.example/raj@acme.example/2027-01-05

Dana reads it before the 1:1. The agenda is also linked from the meeting on y=
our calendar.

--=_oneonone_bbd91d2aef2c768974d572ca87b5e793
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Raj,</p>
<p>Your 1:1 with Dana Brooks is on Tue 05 Jan 10:00. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/c44b89ab8320f8d8353112aeaf9160a7/=
dana@acme.example/raj@acme.example/2027-01-05">Open your agenda</a></p>
<p>Dana reads it before the 1:1. The agenda is also linked from the meeting o=
n your calendar.</p>

--=_oneonone_bbd91d2aef2c768974d572ca87b5e793--
',NULL);
INSERT INTO "notices" VALUES(5,'prep','dana@acme.example/lucia@acme.example','2027-W01','lucia@acme.example','2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','<2e09c598df7d6d3452e680581c4b8e6b@acme.example>','email','From: oneonone@acme.example
To: Lucia Flores <lucia@acme.example>
Subject: 1:1 Dana Brooks / Lucia Flores: please prepare the agenda for Tue 05
 Jan 11:00
Date: Mon, 04 Jan 2027 08:00:00 -0500
Message-ID: <2e09c598df7d6d3452e680581c4b8e6b@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_ac59db57d555e09e13f0ecaeaec34366"

--=_oneonone_ac59db57d555e09e13f0ecaeaec34366
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Lucia,

Your 1:1 with Dana Brooks is on Tue 05 Jan 11:00. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/9a6bb666d210ecb0cb72d14521124512/d=
ana@acme.example/lucia@acme.example/2027-01-05

Dana reads it before the 1:1. The agenda is also linked from the meeting on y=
our calendar.

--=_oneonone_ac59db57d555e09e13f0ecaeaec34366
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Lucia,</p>
<p>Your 1:1 with Dana Brooks is on Tue 05 Jan 11:00. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/9a6bb666d210ecb0cb72d14521124512/=
dana@acme.example/lucia@acme.example/2027-01-05">Open your agenda</a></p>
<p>Dana reads it before the 1:1. The agenda is also linked from the meeting o=
n your calendar.</p>

--=_oneonone_ac59db57d555e09e13f0ecaeaec34366--
',NULL);
INSERT INTO "notices" VALUES(6,'prep','dana@acme.example/tom@acme.example','2027-W01','tom@acme.example','2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','<10c9b9a2116bfbf03857a413e70b5acd@acme.example>','email','From: oneonone@acme.example
To: Tom Becker <tom@acme.example>
Subject:
 1:1 Dana Brooks / Tom Becker: please prepare the agenda for Tue 05 Jan 10:30
Date: Mon, 04 Jan 2027 08:00:00 -0500
Message-ID: <10c9b9a2116bfbf03857a413e70b5acd@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_460470e49416c73b98aefeab595ea5d1"

--=_oneonone_460470e49416c73b98aefeab595ea5d1
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Tom,

Your 1:1 with Dana Brooks is on Tue 05 Jan 10:30. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/ddfbdad056d773d5b896e1d0c0234207/d=
ana@acme.example/tom@acme.example/2027-01-05

Dana reads it before the 1:1. The agenda is also linked from the meeting on y=
our calendar.

--=_oneonone_460470e49416c73b98aefeab595ea5d1
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Tom,</p>
<p>Your 1:1 with Dana Brooks is on Tue 05 Jan 10:30. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/ddfbdad056d773d5b896e1d0c0234207/=
dana@acme.example/tom@acme.example/2027-01-05">Open your agenda</a></p>
<p>Dana reads it before the 1:1. The agenda is also linked from the meeting o=
n your calendar.</p>

--=_oneonone_460470e49416c73b98aefeab595ea5d1--
',NULL);
INSERT INTO "notices" VALUES(7,'prep','marco@acme.example/ana@acme.example','2027-W02','ana@acme.example','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00','<39d1789bf6bb14d5cc8338e6ebea41f0@acme.example>','email','From: oneonone@acme.example
To: Ana Alvarez <ana@acme.example>
Subject:
 1:1 Marco Rossi / Ana Alvarez: please prepare the agenda for Tue 12 Jan 10:00
Date: Mon, 11 Jan 2027 08:00:00 -0500
Message-ID: <39d1789bf6bb14d5cc8338e6ebea41f0@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_6dd6723963adb820eb6f92d2d5cc02e5"

--=_oneonone_6dd6723963adb820eb6f92d2d5cc02e5
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Ana,

Your 1:1 with Marco Rossi is on Tue 12 Jan 10:00. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/1219e9d2c45a52f4e4afba55768cd570/m=
arco@acme.example/ana@acme.example/2027-01-12

Marco reads it before the 1:1. The agenda is also linked from the meeting on =
your calendar.

--=_oneonone_6dd6723963adb820eb6f92d2d5cc02e5
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Ana,</p>
<p>Your 1:1 with Marco Rossi is on Tue 12 Jan 10:00. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/1219e9d2c45a52f4e4afba55768cd570/=
marco@acme.example/ana@acme.example/2027-01-12">Open your agenda</a></p>
<p>Marco reads it before the 1:1. The agenda is also linked from the meeting =
on your calendar.</p>

--=_oneonone_6dd6723963adb820eb6f92d2d5cc02e5--
',NULL);
INSERT INTO "notices" VALUES(8,'prep','marco@acme.example/liam@acme.example','2027-W02','liam@acme.example','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00','<7c00b8613c3aca46f64bfe77ec49d34b@acme.example>','email','From: oneonone@acme.example
To: Liam Hughes <liam@acme.example>
Subject:
 1:1 Marco Rossi / Liam Hughes: please prepare the agenda for Mon 11 Jan 14:00
Date: Mon, 11 Jan 2027 08:00:00 -0500
Message-ID: <7c00b8613c3aca46f64bfe77ec49d34b@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_2b245435cd18ca6b18a7962c3cb41c83"

--=_oneonone_2b245435cd18ca6b18a7962c3cb41c83
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Liam,

Your 1:1 with Marco Rossi is on Mon 11 Jan 14:00. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/136f3f15e06a0c4d75aa18324caa0431/m=
arco@acme.example/liam@acme.example/2027-01-11

Marco reads it before the 1:1. The agenda is also linked from the meeting on =
your calendar.

--=_oneonone_2b245435cd18ca6b18a7962c3cb41c83
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Liam,</p>
<p>Your 1:1 with Marco Rossi is on Mon 11 Jan 14:00. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/136f3f15e06a0c4d75aa18324caa0431/=
marco@acme.example/liam@acme.example/2027-01-11">Open your agenda</a></p>
<p>Marco reads it before the 1:1. The agenda is also linked from the meeting =
on your calendar.</p>

--=_oneonone_2b245435cd18ca6b18a7962c3cb41c83--
',NULL);
INSERT INTO "notices" VALUES(9,'prep','marco@acme.example/sam@acme.example','2027-W02','sam@acme.example','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00','<8c2a81baf3be150f91dd6d900ce5a679@acme.example>','email','From: oneonone@acme.example
To: Sam Okafor <sam@acme.example>
Subject:
 1:1 Marco Rossi / Sam Okafor: please prepare the agenda for Tue 12 Jan 10:30
Date: Mon, 11 Jan 2027 08:00:00 -0500
Message-ID: <8c2a81baf3be150f91dd6d900ce5a679@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_06124c7d2b5cc2a4efdffb0643221e55"

--=_oneonone_06124c7d2b5cc2a4efdffb0643221e55
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Sam,

Your 1:1 with Marco Rossi is on Tue 12 Jan 10:30. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/cbf4c6f891cc3a117771b2123e9ae56a/m=
arco@acme.example/sam@acme.example/2027-01-12

Marco reads it before the 1:1. The agenda is also linked from the meeting on =
your calendar.

--=_oneonone_06124c7d2b5cc2a4efdffb0643221e55
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Sam,</p>
<p>Your 1:1 with Marco Rossi is on Tue 12 Jan 10:30. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/cbf4c6f891cc3a117771b2123e9ae56a/=
marco@acme.example/sam@acme.example/2027-01-12">Open your agenda</a></p>
<p>Marco reads it before the 1:1. The agenda is also linked from the meeting =
on your calendar.</p>

--=_oneonone_06124c7d2b5cc2a4efdffb0643221e55--
',NULL);
INSERT INTO "notices" VALUES(10,'prep','dana@acme.example/raj@acme.example','2027-W02','raj@acme.example','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00','<a7d6d0f56fc92c23cb293b5191111d55@acme.example>','email','From: oneonone@acme.example
To: Raj Mehta <raj@acme.example>
Subject:
 1:1 Dana Brooks / Raj Mehta: please prepare the agenda for Tue 12 Jan 10:00
Date: Mon, 11 Jan 2027 08:00:00 -0500
Message-ID: <a7d6d0f56fc92c23cb293b5191111d55@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_109c27987ea67bffc0228ec3787a4f18"

--=_oneonone_109c27987ea67bffc0228ec3787a4f18
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Raj,

Your 1:1 with Dana Brooks is on Tue 12 Jan 10:00. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/957e3c8802b0a3cdeaeba58e53d07a11/d=
ana@acme.example/raj@acme.example/2027-01-12

Dana reads it before the 1:1. The agenda is also linked from the meeting on y=
our calendar.

--=_oneonone_109c27987ea67bffc0228ec3787a4f18
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Raj,</p>
<p>Your 1:1 with Dana Brooks is on Tue 12 Jan 10:00. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/957e3c8802b0a3cdeaeba58e53d07a11/=
dana@acme.example/raj@acme.example/2027-01-12">Open your agenda</a></p>
<p>Dana reads it before the 1:1. The agenda is also linked from the meeting o=
n your calendar.</p>

--=_oneonone_109c27987ea67bffc0228ec3787a4f18--
',NULL);
INSERT INTO "notices" VALUES(11,'prep','dana@acme.example/lucia@acme.example','2027-W02','lucia@acme.example','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00','<3fbb69d74a88a7c5ee6e9817c44d28bb@acme.example>','email','From: oneonone@acme.example
To: Lucia Flores <lucia@acme.example>
Subject: 1:1 Dana Brooks / Lucia Flores: please prepare the agenda for Tue 12
 Jan 11:00
Date: Mon, 11 Jan 2027 08:00:00 -0500
Message-ID: <3fbb69d74a88a7c5ee6e9817c44d28bb@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_c6f09e10d63619c1ccb78f08906e27ce"

--=_oneonone_c6f09e10d63619c1ccb78f08906e27ce
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Lucia,

Your 1:1 with Dana Brooks is on Tue 12 Jan 11:00. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/2d1cd1772102ed9d846cfc8ed6a68d18/d=
ana@acme.example/lucia@acme.example/2027-01-12

Dana reads it before the 1:1. The agenda is also linked from the meeting on y=
our calendar.

--=_oneonone_c6f09e10d63619c1ccb78f08906e27ce
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Lucia,</p>
<p>Your 1:1 with Dana Brooks is on Tue 12 Jan 11:00. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/2d1cd1772102ed9d846cfc8ed6a68d18/=
dana@acme.example/lucia@acme.example/2027-01-12">Open your agenda</a></p>
<p>Dana reads it before the 1:1. The agenda is also linked from the meeting o=
n your calendar.</p>

--=_oneonone_c6f09e10d63619c1ccb78f08906e27ce--
',NULL);
INSERT INTO "notices" VALUES(12,'prep','dana@acme.example/tom@acme.example','2027-W02','tom@acme.example','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00','<7bf1af2efed30b4f2366d5eaf2202700@acme.example>','email','From: oneonone@acme.example
To: Tom Becker <tom@acme.example>
Subject:
 1:1 Dana Brooks / Tom Becker: please prepare the agenda for Tue 12 Jan 10:30
Date: Mon, 11 Jan 2027 08:00:00 -0500
Message-ID: <7bf1af2efed30b4f2366d5eaf2202700@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_51f60457f6e5185fcba1133f7f36dfee"

--=_oneonone_51f60457f6e5185fcba1133f7f36dfee
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Tom,

Your 1:1 with Dana Brooks is on Tue 12 Jan 10:30. It is your time: please pre=
pare the agenda before you meet. Add what you want to talk about, bring your =
numbers and the deals that matter, and tick the action items that are done.

Your agenda: http://127.0.0.1:8321/agendas/34fa17e4a1119e8c99996a6946c59db3/d=
ana@acme.example/tom@acme.example/2027-01-12

Dana reads it before the 1:1. The agenda is also linked from the meeting on y=
our calendar.

--=_oneonone_51f60457f6e5185fcba1133f7f36dfee
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Tom,</p>
<p>Your 1:1 with Dana Brooks is on Tue 12 Jan 10:30. It is your time: please =
prepare the agenda before you meet. Add what you want to talk about, bring yo=
ur numbers and the deals that matter, and tick the action items that are done=
.</p>
<p><a href=3D"http://127.0.0.1:8321/agendas/34fa17e4a1119e8c99996a6946c59db3/=
dana@acme.example/tom@acme.example/2027-01-12">Open your agenda</a></p>
<p>Dana reads it before the 1:1. The agenda is also linked from the meeting o=
n your calendar.</p>

--=_oneonone_51f60457f6e5185fcba1133f7f36dfee--
',NULL);
INSERT INTO "notices" VALUES(13,'digest','marco@acme.example/','2027-W01','marco@acme.example','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00','<9c81a251b80b4158120f98f1f31ce40b@acme.example>','email','From: oneonone@acme.example
To: Marco Rossi <marco@acme.example>
Subject: Your 1:1s: digest of 2027-W01
Date: Mon, 11 Jan 2027 08:00:00 -0500
Message-ID: <9c81a251b80b4158120f98f1f31ce40b@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_3e96f564b2f9dfea3f5e204d41e10749"

--=_oneonone_3e96f564b2f9dfea3f5e204d41e10749
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Marco,

Your weekly 1:1s in 2027-W01, and how many of them took place lately (close a=
nd time-off weeks left out):

rep          2027-W01  last 4 weeks  last 12 weeks  missed in a row
Ana Alvarez  held      100%          100%           0
Liam Hughes  held      100%          100%           0
Sam Okafor   held      100%          100%           0

--=_oneonone_3e96f564b2f9dfea3f5e204d41e10749
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Marco,</p>
<p>Your weekly 1:1s in 2027-W01, and how many of them took place lately (clos=
e and time-off weeks left out):</p><table cellpadding=3D"4"><tr><th align=3D"=
left">rep</th><th align=3D"left">2027-W01</th><th align=3D"left">last 4 weeks=
</th><th align=3D"left">last 12 weeks</th><th align=3D"left">missed in a row<=
/th></tr>
<tr><td>Ana Alvarez</td><td>held</td><td>100%</td><td>100%</td><td>0</td></tr>
<tr><td>Liam Hughes</td><td>held</td><td>100%</td><td>100%</td><td>0</td></tr>
<tr><td>Sam Okafor</td><td>held</td><td>100%</td><td>100%</td><td>0</td></tr>
</table>

--=_oneonone_3e96f564b2f9dfea3f5e204d41e10749--
',NULL);
INSERT INTO "notices" VALUES(14,'digest','dana@acme.example/','2027-W01','dana@acme.example','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00','<705d9fa6cf3feeccd763cf4e03acae9d@acme.example>','email','From: oneonone@acme.example
To: Dana Brooks <dana@acme.example>
Subject: Your 1:1s: digest of 2027-W01
Date: Mon, 11 Jan 2027 08:00:00 -0500
Message-ID: <705d9fa6cf3feeccd763cf4e03acae9d@acme.example>
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_oneonone_ef5fd84ef5ecd8a88f6d33981d1349b0"

--=_oneonone_ef5fd84ef5ecd8a88f6d33981d1349b0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hello Dana,

Your weekly 1:1s in 2027-W01, and how many of them took place lately (close a=
nd time-off weeks left out):

rep           2027-W01  last 4 weeks  last 12 weeks  missed in a row
Lucia Flores  held      100%          100%           0
Raj Mehta     held      100%          100%           0
Tom Becker    held      100%          100%           0

--=_oneonone_ef5fd84ef5ecd8a88f6d33981d1349b0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hello Dana,</p>
<p>Your weekly 1:1s in 2027-W01, and how many of them took place lately (clos=
e and time-off weeks left out):</p><table cellpadding=3D"4"><tr><th align=3D"=
left">rep</th><th align=3D"left">2027-W01</th><th align=3D"left">last 4 weeks=
</th><th align=3D"left">last 12 weeks</th><th align=3D"left">missed in a row<=
/th></tr>
<tr><td>Lucia Flores</td><td>held</td><td>100%</td><td>100%</td><td>0</td></t=
r>
<tr><td>Raj Mehta</td><td>held</td><td>100%</td><td>100%</td><td>0</td></tr>
<tr><td>Tom Becker</td><td>held</td><td>100%</td><td>100%</td><td>0</td></tr>
</table>

--=_oneonone_ef5fd84ef5ecd8a88f6d33981d1349b0--
',NULL);
CREATE TABLE occurrence_log (
	id INTEGER NOT NULL, 
	pair_key VARCHAR(400) NOT NULL, 
	week VARCHAR(8) NOT NULL, 
	at VARCHAR(40) NOT NULL, 
	plan_status VARCHAR(20) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	start VARCHAR(40) NOT NULL, 
	reason TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "occurrence_log" VALUES(1,'vera@acme.example/marco@acme.example','2027-W01','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-07T14:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(2,'vera@acme.example/marco@acme.example','2027-W02','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-14T14:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(3,'vera@acme.example/marco@acme.example','2027-W03','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-21T14:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(4,'vera@acme.example/marco@acme.example','2027-W04','2027-01-04T08:00:00-05:00','close_week','close_week','2027-01-28T14:00:00-05:00','no 1:1 this week: month-end close');
INSERT INTO "occurrence_log" VALUES(5,'vera@acme.example/marco@acme.example','2027-W05','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-04T14:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(6,'vera@acme.example/marco@acme.example','2027-W06','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-11T14:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(7,'vera@acme.example/dana@acme.example','2027-W01','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-07T14:45:00-05:00','');
INSERT INTO "occurrence_log" VALUES(8,'vera@acme.example/dana@acme.example','2027-W02','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-14T14:45:00-05:00','');
INSERT INTO "occurrence_log" VALUES(9,'vera@acme.example/dana@acme.example','2027-W03','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-21T14:45:00-05:00','');
INSERT INTO "occurrence_log" VALUES(10,'vera@acme.example/dana@acme.example','2027-W04','2027-01-04T08:00:00-05:00','close_week','close_week','2027-01-28T14:45:00-05:00','no 1:1 this week: month-end close');
INSERT INTO "occurrence_log" VALUES(11,'vera@acme.example/dana@acme.example','2027-W05','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-04T14:45:00-05:00','');
INSERT INTO "occurrence_log" VALUES(12,'vera@acme.example/dana@acme.example','2027-W06','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-11T14:45:00-05:00','');
INSERT INTO "occurrence_log" VALUES(13,'marco@acme.example/ana@acme.example','2027-W01','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-05T10:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(14,'marco@acme.example/ana@acme.example','2027-W02','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-12T10:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(15,'marco@acme.example/ana@acme.example','2027-W03','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-19T10:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(16,'marco@acme.example/ana@acme.example','2027-W04','2027-01-04T08:00:00-05:00','close_week','close_week','2027-01-26T10:00:00-05:00','no 1:1 this week: month-end close');
INSERT INTO "occurrence_log" VALUES(17,'marco@acme.example/ana@acme.example','2027-W05','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-02T10:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(18,'marco@acme.example/ana@acme.example','2027-W06','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-09T10:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(19,'marco@acme.example/liam@acme.example','2027-W01','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-04T09:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(20,'marco@acme.example/liam@acme.example','2027-W02','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-11T09:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(21,'marco@acme.example/liam@acme.example','2027-W03','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-19T14:00:00+00:00','moved from Mon 09:00: Martin Luther King Jr. Day');
INSERT INTO "occurrence_log" VALUES(22,'marco@acme.example/liam@acme.example','2027-W04','2027-01-04T08:00:00-05:00','close_week','close_week','2027-01-25T09:00:00-05:00','no 1:1 this week: month-end close');
INSERT INTO "occurrence_log" VALUES(23,'marco@acme.example/liam@acme.example','2027-W05','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-01T09:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(24,'marco@acme.example/liam@acme.example','2027-W06','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-08T09:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(25,'marco@acme.example/sam@acme.example','2027-W01','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-05T10:30:00-05:00','');
INSERT INTO "occurrence_log" VALUES(26,'marco@acme.example/sam@acme.example','2027-W02','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-12T10:30:00-05:00','');
INSERT INTO "occurrence_log" VALUES(27,'marco@acme.example/sam@acme.example','2027-W03','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-19T10:30:00-05:00','');
INSERT INTO "occurrence_log" VALUES(28,'marco@acme.example/sam@acme.example','2027-W04','2027-01-04T08:00:00-05:00','close_week','close_week','2027-01-26T10:30:00-05:00','no 1:1 this week: month-end close');
INSERT INTO "occurrence_log" VALUES(29,'marco@acme.example/sam@acme.example','2027-W05','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-02T10:30:00-05:00','');
INSERT INTO "occurrence_log" VALUES(30,'marco@acme.example/sam@acme.example','2027-W06','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-09T10:30:00-05:00','');
INSERT INTO "occurrence_log" VALUES(31,'dana@acme.example/raj@acme.example','2027-W01','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-05T10:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(32,'dana@acme.example/raj@acme.example','2027-W02','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-12T10:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(33,'dana@acme.example/raj@acme.example','2027-W03','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-19T10:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(34,'dana@acme.example/raj@acme.example','2027-W04','2027-01-04T08:00:00-05:00','close_week','close_week','2027-01-26T10:00:00-06:00','no 1:1 this week: month-end close');
INSERT INTO "occurrence_log" VALUES(35,'dana@acme.example/raj@acme.example','2027-W05','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-02T10:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(36,'dana@acme.example/raj@acme.example','2027-W06','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-09T10:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(37,'dana@acme.example/lucia@acme.example','2027-W01','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-05T13:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(38,'dana@acme.example/lucia@acme.example','2027-W02','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-12T13:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(39,'dana@acme.example/lucia@acme.example','2027-W03','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-19T13:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(40,'dana@acme.example/lucia@acme.example','2027-W04','2027-01-04T08:00:00-05:00','close_week','close_week','2027-01-26T13:00:00-06:00','no 1:1 this week: month-end close');
INSERT INTO "occurrence_log" VALUES(41,'dana@acme.example/lucia@acme.example','2027-W05','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-02T13:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(42,'dana@acme.example/lucia@acme.example','2027-W06','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-09T13:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(43,'dana@acme.example/tom@acme.example','2027-W01','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-05T10:30:00-06:00','');
INSERT INTO "occurrence_log" VALUES(44,'dana@acme.example/tom@acme.example','2027-W02','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-12T10:30:00-06:00','');
INSERT INTO "occurrence_log" VALUES(45,'dana@acme.example/tom@acme.example','2027-W03','2027-01-04T08:00:00-05:00','planned','upcoming','2027-01-19T10:30:00-06:00','');
INSERT INTO "occurrence_log" VALUES(46,'dana@acme.example/tom@acme.example','2027-W04','2027-01-04T08:00:00-05:00','close_week','close_week','2027-01-26T10:30:00-06:00','no 1:1 this week: month-end close');
INSERT INTO "occurrence_log" VALUES(47,'dana@acme.example/tom@acme.example','2027-W05','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-02T10:30:00-06:00','');
INSERT INTO "occurrence_log" VALUES(48,'dana@acme.example/tom@acme.example','2027-W06','2027-01-04T08:00:00-05:00','planned','upcoming','2027-02-09T10:30:00-06:00','');
INSERT INTO "occurrence_log" VALUES(49,'vera@acme.example/marco@acme.example','2027-W01','2027-01-11T08:00:00-05:00','planned','held','2027-01-07T14:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(50,'vera@acme.example/marco@acme.example','2027-W07','2027-01-11T08:00:00-05:00','planned','upcoming','2027-02-18T14:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(51,'vera@acme.example/dana@acme.example','2027-W01','2027-01-11T08:00:00-05:00','planned','held','2027-01-07T14:45:00-05:00','');
INSERT INTO "occurrence_log" VALUES(52,'vera@acme.example/dana@acme.example','2027-W07','2027-01-11T08:00:00-05:00','planned','upcoming','2027-02-18T14:45:00-05:00','');
INSERT INTO "occurrence_log" VALUES(53,'marco@acme.example/ana@acme.example','2027-W01','2027-01-11T08:00:00-05:00','planned','held','2027-01-05T10:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(54,'marco@acme.example/ana@acme.example','2027-W07','2027-01-11T08:00:00-05:00','planned','upcoming','2027-02-16T10:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(55,'marco@acme.example/liam@acme.example','2027-W01','2027-01-11T08:00:00-05:00','planned','held','2027-01-04T09:00:00-05:00','');
INSERT INTO "occurrence_log" VALUES(56,'marco@acme.example/liam@acme.example','2027-W07','2027-01-11T08:00:00-05:00','planned','upcoming','2027-02-16T14:00:00+00:00','moved from Mon 09:00: Washington''s Birthday');
INSERT INTO "occurrence_log" VALUES(57,'marco@acme.example/sam@acme.example','2027-W01','2027-01-11T08:00:00-05:00','planned','held','2027-01-05T10:30:00-05:00','');
INSERT INTO "occurrence_log" VALUES(58,'marco@acme.example/sam@acme.example','2027-W07','2027-01-11T08:00:00-05:00','planned','upcoming','2027-02-16T10:30:00-05:00','');
INSERT INTO "occurrence_log" VALUES(59,'dana@acme.example/raj@acme.example','2027-W01','2027-01-11T08:00:00-05:00','planned','held','2027-01-05T10:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(60,'dana@acme.example/raj@acme.example','2027-W07','2027-01-11T08:00:00-05:00','planned','upcoming','2027-02-16T10:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(61,'dana@acme.example/lucia@acme.example','2027-W01','2027-01-11T08:00:00-05:00','planned','held','2027-01-05T13:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(62,'dana@acme.example/lucia@acme.example','2027-W07','2027-01-11T08:00:00-05:00','planned','upcoming','2027-02-16T13:00:00-06:00','');
INSERT INTO "occurrence_log" VALUES(63,'dana@acme.example/tom@acme.example','2027-W01','2027-01-11T08:00:00-05:00','planned','held','2027-01-05T10:30:00-06:00','');
INSERT INTO "occurrence_log" VALUES(64,'dana@acme.example/tom@acme.example','2027-W07','2027-01-11T08:00:00-05:00','planned','upcoming','2027-02-16T10:30:00-06:00','');
CREATE TABLE occurrences (
	pair_key VARCHAR(400) NOT NULL, 
	week VARCHAR(8) NOT NULL, 
	regular_start VARCHAR(40) NOT NULL, 
	planned_start VARCHAR(40) NOT NULL, 
	planned_end VARCHAR(40) NOT NULL, 
	actual_start VARCHAR(40), 
	actual_end VARCHAR(40), 
	plan_status VARCHAR(20) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	reason TEXT NOT NULL, 
	people_changed BOOLEAN NOT NULL, 
	change VARCHAR(20) NOT NULL, 
	agenda TEXT, 
	updated_at VARCHAR(40) NOT NULL, 
	away BOOLEAN, 
	PRIMARY KEY (pair_key, week)
);
INSERT INTO "occurrences" VALUES('vera@acme.example/marco@acme.example','2027-W01','2027-01-07T14:00:00-05:00','2027-01-07T14:00:00-05:00','2027-01-07T14:45:00-05:00',NULL,NULL,'planned','held','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/marco@acme.example','2027-W02','2027-01-14T14:00:00-05:00','2027-01-14T14:00:00-05:00','2027-01-14T14:45:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/marco@acme.example','2027-W03','2027-01-21T14:00:00-05:00','2027-01-21T14:00:00-05:00','2027-01-21T14:45:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/marco@acme.example','2027-W04','2027-01-28T14:00:00-05:00','2027-01-28T14:00:00-05:00','2027-01-28T14:45:00-05:00',NULL,NULL,'close_week','close_week','no 1:1 this week: month-end close',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/marco@acme.example','2027-W05','2027-02-04T14:00:00-05:00','2027-02-04T14:00:00-05:00','2027-02-04T14:45:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/marco@acme.example','2027-W06','2027-02-11T14:00:00-05:00','2027-02-11T14:00:00-05:00','2027-02-11T14:45:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/dana@acme.example','2027-W01','2027-01-07T14:45:00-05:00','2027-01-07T14:45:00-05:00','2027-01-07T15:30:00-05:00',NULL,NULL,'planned','held','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/dana@acme.example','2027-W02','2027-01-14T14:45:00-05:00','2027-01-14T14:45:00-05:00','2027-01-14T15:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/dana@acme.example','2027-W03','2027-01-21T14:45:00-05:00','2027-01-21T14:45:00-05:00','2027-01-21T15:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/dana@acme.example','2027-W04','2027-01-28T14:45:00-05:00','2027-01-28T14:45:00-05:00','2027-01-28T15:30:00-05:00',NULL,NULL,'close_week','close_week','no 1:1 this week: month-end close',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/dana@acme.example','2027-W05','2027-02-04T14:45:00-05:00','2027-02-04T14:45:00-05:00','2027-02-04T15:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/dana@acme.example','2027-W06','2027-02-11T14:45:00-05:00','2027-02-11T14:45:00-05:00','2027-02-11T15:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/ana@acme.example','2027-W01','2027-01-05T10:00:00-05:00','2027-01-05T10:00:00-05:00','2027-01-05T10:30:00-05:00',NULL,NULL,'planned','held','',0,'','http://127.0.0.1:8321/agendas/2823a32e4a8837d75f77a5988654ae6e/marco@acme.example/ana@acme.example/2027-01-05','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/ana@acme.example','2027-W02','2027-01-12T10:00:00-05:00','2027-01-12T10:00:00-05:00','2027-01-12T10:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'','http://127.0.0.1:8321/agendas/1219e9d2c45a52f4e4afba55768cd570/marco@acme.example/ana@acme.example/2027-01-12','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/ana@acme.example','2027-W03','2027-01-19T10:00:00-05:00','2027-01-19T10:00:00-05:00','2027-01-19T10:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/ana@acme.example','2027-W04','2027-01-26T10:00:00-05:00','2027-01-26T10:00:00-05:00','2027-01-26T10:30:00-05:00',NULL,NULL,'close_week','close_week','no 1:1 this week: month-end close',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/ana@acme.example','2027-W05','2027-02-02T10:00:00-05:00','2027-02-02T10:00:00-05:00','2027-02-02T10:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/ana@acme.example','2027-W06','2027-02-09T10:00:00-05:00','2027-02-09T10:00:00-05:00','2027-02-09T10:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/liam@acme.example','2027-W01','2027-01-04T09:00:00-05:00','2027-01-04T09:00:00-05:00','2027-01-04T09:30:00-05:00',NULL,NULL,'planned','held','',0,'','http://127.0.0.1:8321/agendas/aae3cabf57c6c733ead9e7e9825b08f6/marco@acme.example/liam@acme.example/2027-01-04','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/liam@acme.example','2027-W02','2027-01-11T09:00:00-05:00','2027-01-11T09:00:00-05:00','2027-01-11T09:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'','http://127.0.0.1:8321/agendas/136f3f15e06a0c4d75aa18324caa0431/marco@acme.example/liam@acme.example/2027-01-11','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/liam@acme.example','2027-W03','2027-01-18T09:00:00-05:00','2027-01-19T14:00:00+00:00','2027-01-19T14:30:00+00:00',NULL,NULL,'planned','upcoming','moved from Mon 09:00: Martin Luther King Jr. Day',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/liam@acme.example','2027-W04','2027-01-25T09:00:00-05:00','2027-01-25T09:00:00-05:00','2027-01-25T09:30:00-05:00',NULL,NULL,'close_week','close_week','no 1:1 this week: month-end close',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/liam@acme.example','2027-W05','2027-02-01T09:00:00-05:00','2027-02-01T09:00:00-05:00','2027-02-01T09:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/liam@acme.example','2027-W06','2027-02-08T09:00:00-05:00','2027-02-08T09:00:00-05:00','2027-02-08T09:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/sam@acme.example','2027-W01','2027-01-05T10:30:00-05:00','2027-01-05T10:30:00-05:00','2027-01-05T11:00:00-05:00',NULL,NULL,'planned','held','',0,'','http://127.0.0.1:8321/agendas/096cdacde2e74ca2b5e82d9965784879/marco@acme.example/sam@acme.example/2027-01-05','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/sam@acme.example','2027-W02','2027-01-12T10:30:00-05:00','2027-01-12T10:30:00-05:00','2027-01-12T11:00:00-05:00',NULL,NULL,'planned','upcoming','',0,'','http://127.0.0.1:8321/agendas/cbf4c6f891cc3a117771b2123e9ae56a/marco@acme.example/sam@acme.example/2027-01-12','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/sam@acme.example','2027-W03','2027-01-19T10:30:00-05:00','2027-01-19T10:30:00-05:00','2027-01-19T11:00:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/sam@acme.example','2027-W04','2027-01-26T10:30:00-05:00','2027-01-26T10:30:00-05:00','2027-01-26T11:00:00-05:00',NULL,NULL,'close_week','close_week','no 1:1 this week: month-end close',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/sam@acme.example','2027-W05','2027-02-02T10:30:00-05:00','2027-02-02T10:30:00-05:00','2027-02-02T11:00:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/sam@acme.example','2027-W06','2027-02-09T10:30:00-05:00','2027-02-09T10:30:00-05:00','2027-02-09T11:00:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/raj@acme.example','2027-W01','2027-01-05T10:00:00-06:00','2027-01-05T10:00:00-06:00','2027-01-05T10:30:00-06:00',NULL,NULL,'planned','held','',0,'','http://127.0.0.1:8321/agendas/c44b89ab8320f8d8353112aeaf9160a7/dana@acme.example/raj@acme.example/2027-01-05','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/raj@acme.example','2027-W02','2027-01-12T10:00:00-06:00','2027-01-12T10:00:00-06:00','2027-01-12T10:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'','http://127.0.0.1:8321/agendas/957e3c8802b0a3cdeaeba58e53d07a11/dana@acme.example/raj@acme.example/2027-01-12','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/raj@acme.example','2027-W03','2027-01-19T10:00:00-06:00','2027-01-19T10:00:00-06:00','2027-01-19T10:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/raj@acme.example','2027-W04','2027-01-26T10:00:00-06:00','2027-01-26T10:00:00-06:00','2027-01-26T10:30:00-06:00',NULL,NULL,'close_week','close_week','no 1:1 this week: month-end close',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/raj@acme.example','2027-W05','2027-02-02T10:00:00-06:00','2027-02-02T10:00:00-06:00','2027-02-02T10:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/raj@acme.example','2027-W06','2027-02-09T10:00:00-06:00','2027-02-09T10:00:00-06:00','2027-02-09T10:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/lucia@acme.example','2027-W01','2027-01-05T13:00:00-06:00','2027-01-05T13:00:00-06:00','2027-01-05T13:30:00-06:00',NULL,NULL,'planned','held','',0,'','http://127.0.0.1:8321/agendas/9a6bb666d210ecb0cb72d14521124512/dana@acme.example/lucia@acme.example/2027-01-05','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/lucia@acme.example','2027-W02','2027-01-12T13:00:00-06:00','2027-01-12T13:00:00-06:00','2027-01-12T13:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'','http://127.0.0.1:8321/agendas/2d1cd1772102ed9d846cfc8ed6a68d18/dana@acme.example/lucia@acme.example/2027-01-12','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/lucia@acme.example','2027-W03','2027-01-19T13:00:00-06:00','2027-01-19T13:00:00-06:00','2027-01-19T13:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/lucia@acme.example','2027-W04','2027-01-26T13:00:00-06:00','2027-01-26T13:00:00-06:00','2027-01-26T13:30:00-06:00',NULL,NULL,'close_week','close_week','no 1:1 this week: month-end close',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/lucia@acme.example','2027-W05','2027-02-02T13:00:00-06:00','2027-02-02T13:00:00-06:00','2027-02-02T13:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/lucia@acme.example','2027-W06','2027-02-09T13:00:00-06:00','2027-02-09T13:00:00-06:00','2027-02-09T13:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/tom@acme.example','2027-W01','2027-01-05T10:30:00-06:00','2027-01-05T10:30:00-06:00','2027-01-05T11:00:00-06:00',NULL,NULL,'planned','held','',0,'','http://127.0.0.1:8321/agendas/ddfbdad056d773d5b896e1d0c0234207/dana@acme.example/tom@acme.example/2027-01-05','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/tom@acme.example','2027-W02','2027-01-12T10:30:00-06:00','2027-01-12T10:30:00-06:00','2027-01-12T11:00:00-06:00',NULL,NULL,'planned','upcoming','',0,'','http://127.0.0.1:8321/agendas/34fa17e4a1119e8c99996a6946c59db3/dana@acme.example/tom@acme.example/2027-01-12','2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/tom@acme.example','2027-W03','2027-01-19T10:30:00-06:00','2027-01-19T10:30:00-06:00','2027-01-19T11:00:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/tom@acme.example','2027-W04','2027-01-26T10:30:00-06:00','2027-01-26T10:30:00-06:00','2027-01-26T11:00:00-06:00',NULL,NULL,'close_week','close_week','no 1:1 this week: month-end close',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/tom@acme.example','2027-W05','2027-02-02T10:30:00-06:00','2027-02-02T10:30:00-06:00','2027-02-02T11:00:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/tom@acme.example','2027-W06','2027-02-09T10:30:00-06:00','2027-02-09T10:30:00-06:00','2027-02-09T11:00:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-04T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/marco@acme.example','2027-W07','2027-02-18T14:00:00-05:00','2027-02-18T14:00:00-05:00','2027-02-18T14:45:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('vera@acme.example/dana@acme.example','2027-W07','2027-02-18T14:45:00-05:00','2027-02-18T14:45:00-05:00','2027-02-18T15:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/ana@acme.example','2027-W07','2027-02-16T10:00:00-05:00','2027-02-16T10:00:00-05:00','2027-02-16T10:30:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/liam@acme.example','2027-W07','2027-02-15T09:00:00-05:00','2027-02-16T14:00:00+00:00','2027-02-16T14:30:00+00:00',NULL,NULL,'planned','upcoming','moved from Mon 09:00: Washington''s Birthday',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('marco@acme.example/sam@acme.example','2027-W07','2027-02-16T10:30:00-05:00','2027-02-16T10:30:00-05:00','2027-02-16T11:00:00-05:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/raj@acme.example','2027-W07','2027-02-16T10:00:00-06:00','2027-02-16T10:00:00-06:00','2027-02-16T10:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/lucia@acme.example','2027-W07','2027-02-16T13:00:00-06:00','2027-02-16T13:00:00-06:00','2027-02-16T13:30:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
INSERT INTO "occurrences" VALUES('dana@acme.example/tom@acme.example','2027-W07','2027-02-16T10:30:00-06:00','2027-02-16T10:30:00-06:00','2027-02-16T11:00:00-06:00',NULL,NULL,'planned','upcoming','',0,'',NULL,'2027-01-11T08:00:00-05:00',0);
CREATE TABLE pairs (
	"key" VARCHAR(400) NOT NULL, 
	manager VARCHAR(200) NOT NULL, 
	rep VARCHAR(200) NOT NULL, 
	skip_level VARCHAR(200), 
	active BOOLEAN NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	ended_at VARCHAR(40), 
	PRIMARY KEY ("key")
);
INSERT INTO "pairs" VALUES('vera@acme.example/marco@acme.example','vera@acme.example','marco@acme.example',NULL,1,'2027-01-04T08:00:00-05:00',NULL);
INSERT INTO "pairs" VALUES('vera@acme.example/dana@acme.example','vera@acme.example','dana@acme.example',NULL,1,'2027-01-04T08:00:00-05:00',NULL);
INSERT INTO "pairs" VALUES('marco@acme.example/ana@acme.example','marco@acme.example','ana@acme.example','vera@acme.example',1,'2027-01-04T08:00:00-05:00',NULL);
INSERT INTO "pairs" VALUES('marco@acme.example/liam@acme.example','marco@acme.example','liam@acme.example','vera@acme.example',1,'2027-01-04T08:00:00-05:00',NULL);
INSERT INTO "pairs" VALUES('marco@acme.example/sam@acme.example','marco@acme.example','sam@acme.example','vera@acme.example',1,'2027-01-04T08:00:00-05:00',NULL);
INSERT INTO "pairs" VALUES('dana@acme.example/raj@acme.example','dana@acme.example','raj@acme.example','vera@acme.example',1,'2027-01-04T08:00:00-05:00',NULL);
INSERT INTO "pairs" VALUES('dana@acme.example/lucia@acme.example','dana@acme.example','lucia@acme.example','vera@acme.example',1,'2027-01-04T08:00:00-05:00',NULL);
INSERT INTO "pairs" VALUES('dana@acme.example/tom@acme.example','dana@acme.example','tom@acme.example','vera@acme.example',1,'2027-01-04T08:00:00-05:00',NULL);
CREATE TABLE series (
	pair_key VARCHAR(400) NOT NULL, 
	uid VARCHAR(200) NOT NULL, 
	organizer VARCHAR(200) NOT NULL, 
	dtstart VARCHAR(40) NOT NULL, 
	weekday INTEGER NOT NULL, 
	at_time VARCHAR(5) NOT NULL, 
	timezone VARCHAR(64) NOT NULL, 
	duration_minutes INTEGER NOT NULL, 
	until VARCHAR(40), 
	sequence INTEGER NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	previous_fingerprint TEXT, 
	pending BOOLEAN NOT NULL, 
	dtstamp VARCHAR(40) NOT NULL, 
	created_at VARCHAR(40) NOT NULL, 
	updated_at VARCHAR(40) NOT NULL, 
	seen_at VARCHAR(40), 
	person_slot TEXT, 
	PRIMARY KEY (pair_key)
);
INSERT INTO "series" VALUES('vera@acme.example/marco@acme.example','oneonone-4f8390c9-a3e1-508e-86e1-31b64f5d6c89','vera@acme.example','2027-01-07T14:00:00-05:00',3,'14:00','America/New_York',45,NULL,0,'3eab6b405ae1130d698eab90d25c409b',NULL,0,'2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "series" VALUES('vera@acme.example/dana@acme.example','oneonone-8f7babc6-fa47-5ccf-bb06-8b89468066cc','vera@acme.example','2027-01-07T14:45:00-05:00',3,'14:45','America/New_York',45,NULL,0,'7ca079bb249e50f8b47b2fadd81eeb66',NULL,0,'2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "series" VALUES('marco@acme.example/ana@acme.example','oneonone-7d99edf3-813f-50f4-a1c4-6ca4248b00e9','marco@acme.example','2027-01-05T10:00:00-05:00',1,'10:00','America/New_York',30,NULL,1,'730d1e7e78fe175670b18f7a6c69ce93',NULL,0,'2027-01-11T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "series" VALUES('marco@acme.example/liam@acme.example','oneonone-059d1d5a-9a5f-5f15-960c-9cd9ad385da1','marco@acme.example','2027-01-04T09:00:00-05:00',0,'09:00','America/New_York',30,NULL,1,'9dbd111e76c8ba4eae1b71b9027019eb',NULL,0,'2027-01-11T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "series" VALUES('marco@acme.example/sam@acme.example','oneonone-6b56ea4b-4ecc-5e82-aa4a-3feb04186af6','marco@acme.example','2027-01-05T10:30:00-05:00',1,'10:30','America/New_York',30,NULL,1,'45228818576a6ea9ac26e1248c664271',NULL,0,'2027-01-11T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "series" VALUES('dana@acme.example/raj@acme.example','oneonone-d6c36840-ce4e-55a9-9c8a-d64250d228ae','dana@acme.example','2027-01-05T10:00:00-06:00',1,'10:00','America/Chicago',30,NULL,1,'68fb34788582dcb041ef0eb93160f3a5',NULL,0,'2027-01-11T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "series" VALUES('dana@acme.example/lucia@acme.example','oneonone-dafb7c55-266e-5b98-b993-d12fcd66c07a','dana@acme.example','2027-01-05T13:00:00-06:00',1,'13:00','America/Chicago',30,NULL,1,'107c2ecd9271022939f3119efff69c6b',NULL,0,'2027-01-11T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
INSERT INTO "series" VALUES('dana@acme.example/tom@acme.example','oneonone-81a00bcd-1674-5393-9f21-d08d158e3f9b','dana@acme.example','2027-01-05T10:30:00-06:00',1,'10:30','America/Chicago',30,NULL,1,'75d5e09adfd9b0a3ff0d08a202e2ffe9',NULL,0,'2027-01-11T08:00:00-05:00','2027-01-04T08:00:00-05:00','2027-01-11T08:00:00-05:00','2027-01-11T08:00:00-05:00',NULL);
COMMIT;