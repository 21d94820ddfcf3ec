//! Encryption at rest of what customers entrust to us (bring-your-own provider keys).

pub mod envelope;
