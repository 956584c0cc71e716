//! Turnout's integration tests: one binary, the real app on an ephemeral
//! port, on SQLite by default or on PostgreSQL when
//! `TURNOUT_TEST_POSTGRES_URL` is set.

mod admin;
mod advisor;
mod api10_unsafe_consumption_of_apis;
mod api1_object_level_authorization;
mod api2_broken_authentication;
mod api3_object_property_level_authorization;
mod api4_unrestricted_resource_consumption;
mod api5_broken_function_level_authorization;
mod api6_unrestricted_access_to_sensitive_business_flows;
mod api7_server_side_request_forgery;
mod api8_security_misconfiguration;
mod api9_improper_inventory_management;
mod articles;
mod attendance;
mod cli;
mod conformance;
mod consultations;
mod emails;
mod followups;
mod join;
mod leads;
mod migrations;
mod operations;
mod outbox;
mod pages;
mod registrants;
mod registrations;
mod resumes;
mod schema;
mod sms;
mod storage;
mod waitlist;
mod webhooks;
mod webinars;
mod whatsapp;
