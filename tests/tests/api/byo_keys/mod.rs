//! Bring-your-own provider keys.

mod provider_keys;
