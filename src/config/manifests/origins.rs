//! Where each entry of the generated native config came from, so that a native validation error
//! (`routes[0].backendRefs[0].name: no backend named ...`) is reported against the manifest
//! (`guide.yaml: document 3 (HTTPRoute ns/bedrock): spec.rules[0].backendRefs[0].name: ...`).

/// Native entry → document label and key-path renames.
#[derive(Debug, Default, Clone)]
pub(crate) struct Origins {
    entries: Vec<Origin>,
}

#[derive(Debug, Clone)]
struct Origin {
    /// `routes[3]`
    native: String,
    /// `file: document N (Kind ns/name)`
    label: String,
    /// (native key-path prefix after the entry, manifest key path), longest native one wins;
    /// the entry `("", p)` renames everything else.
    renames: Vec<(String, String)>,
}

impl Origins {
    /// Record that native entry `native` (e.g. `backends[0]`) comes from the document `label`.
    pub(crate) fn add(&mut self, native: String, label: &str, renames: &[(&str, String)]) {
        self.entries.push(Origin {
            native,
            label: label.to_owned(),
            renames: renames
                .iter()
                .map(|(n, m)| ((*n).to_owned(), m.clone()))
                .collect(),
        });
    }

    /// A native error renamed to its document and manifest key path (unchanged when it names
    /// no generated entry).
    pub(crate) fn rename(&self, err: &str) -> String {
        for o in &self.entries {
            let Some(rest) = err.strip_prefix(o.native.as_str()) else {
                continue;
            };
            if !(rest.starts_with('.') || rest.starts_with(':')) {
                continue; // `routes[1]` is not `routes[10]`
            }
            let best = o
                .renames
                .iter()
                .filter(|(n, _)| {
                    rest.strip_prefix(n.as_str())
                        .is_some_and(|t| t.is_empty() || t.starts_with(['.', ':', '[']))
                })
                .max_by_key(|(n, _)| n.len());
            let (tail, manifest) = match best {
                Some((n, m)) => (&rest[n.len()..], m.as_str()),
                None => (rest, ""),
            };
            let joined = if manifest.is_empty() {
                tail.trim_start_matches('.').to_owned()
            } else {
                format!("{manifest}{tail}")
            };
            let joined = joined.strip_prefix(": ").unwrap_or(&joined).to_owned();
            return format!("{}: {joined}", o.label);
        }
        err.to_owned()
    }
}
