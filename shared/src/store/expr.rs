//! A small builder for update and condition expressions, so each write reads as a list of
//! clauses instead of string concatenation with hand-numbered placeholders.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

#[derive(Debug, Default)]
pub struct UpdateExpr {
    sets: Vec<String>,
    removes: Vec<String>,
    adds: Vec<String>,
    conditions: Vec<String>,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl UpdateExpr {
    pub fn new() -> Self {
        Self::default()
    }

    /// A placeholder for an attribute name (`#n0`, ...). The same name reuses its placeholder.
    pub fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    /// A placeholder for a value (`:v0`, ...).
    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub fn num(&mut self, n: impl ToString) -> String {
        self.value(AttributeValue::N(n.to_string()))
    }

    pub fn str(&mut self, s: impl Into<String>) -> String {
        self.value(AttributeValue::S(s.into()))
    }

    pub fn set(&mut self, clause: String) -> &mut Self {
        self.sets.push(clause);
        self
    }

    pub fn remove(&mut self, path: String) -> &mut Self {
        self.removes.push(path);
        self
    }

    pub fn add(&mut self, clause: String) -> &mut Self {
        self.adds.push(clause);
        self
    }

    pub fn require(&mut self, condition: String) -> &mut Self {
        self.conditions.push(condition);
        self
    }

    pub fn update_expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.sets.is_empty() {
            parts.push(format!("SET {}", self.sets.join(", ")));
        }
        if !self.removes.is_empty() {
            parts.push(format!("REMOVE {}", self.removes.join(", ")));
        }
        if !self.adds.is_empty() {
            parts.push(format!("ADD {}", self.adds.join(", ")));
        }
        parts.join(" ")
    }

    pub fn condition_expression(&self) -> Option<String> {
        (!self.conditions.is_empty())
            .then(|| self.conditions.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" AND "))
    }

    /// Names the expressions use. DynamoDB rejects unused placeholders, and builders often
    /// prepare one for a branch that ends up not needing it.
    pub fn names(&self) -> Option<HashMap<String, String>> {
        let used: HashMap<String, String> =
            self.names.iter().filter(|(p, _)| self.references(p)).map(|(p, n)| (p.clone(), n.clone())).collect();
        (!used.is_empty()).then_some(used)
    }

    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        let used: HashMap<String, AttributeValue> =
            self.values.iter().filter(|(p, _)| self.references(p)).map(|(p, v)| (p.clone(), v.clone())).collect();
        (!used.is_empty()).then_some(used)
    }

    /// Whether `placeholder` occurs as a whole token (`:v1` must not match inside `:v10`).
    fn references(&self, placeholder: &str) -> bool {
        let condition = self.condition_expression().unwrap_or_default();
        [self.update_expression(), condition].iter().any(|expr| {
            expr.match_indices(placeholder)
                .any(|(at, _)| !expr[at + placeholder.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_and_placeholders_assemble_into_one_expression() {
        let mut u = UpdateExpr::new();
        let holds = u.name("holds");
        let run = u.name("run-1");
        let one = u.num(1);
        let old = u.name("old");
        u.set(format!("{holds}.{run} = {one}")).remove(old).add(format!("version {one}"));
        u.require(format!("attribute_not_exists({holds}.{run})"));
        assert_eq!(u.update_expression(), "SET #n0.#n1 = :v0 REMOVE #n2 ADD version :v0");
        assert_eq!(u.condition_expression().as_deref(), Some("(attribute_not_exists(#n0.#n1))"));
        assert_eq!(u.name("holds"), "#n0", "a repeated name reuses its placeholder");
        let unused = u.num(99);
        assert!(!u.values().unwrap().contains_key(&unused), "unused placeholders are not sent");
        assert_eq!(u.values().unwrap().len(), 1);
        assert_eq!(u.names().unwrap().len(), 3);
    }
}
