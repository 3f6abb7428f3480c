//! Network-namespace test harness for Rampart (namespaces, strongSwan, rampart daemon, captures).
