//! Identity resolution (SPEC §5 `identity`): the uid and gid an agent runs as, and the
//! identity its audit records carry. Pure functions over the text of a password
//! database (`/etc/passwd` on Linux), so they are tested without the host's.

use mxc_eval::Identity;

/// `(name, uid, gid, home)` of each well-formed entry of `passwd`.
fn entries(passwd: &str) -> impl Iterator<Item = (&str, u32, u32, &str)> {
    passwd.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 4).then_some(())?;
        Some((
            f[0],
            f[2].parse().ok()?,
            f[3].parse().ok()?,
            f.get(5).copied().unwrap_or(""),
        ))
    })
}

/// `identity local(...)` → the uid and gid to run as (`None`: as the caller). A named
/// user who does not exist is an error (the run must not start as someone else); a
/// uid without an entry runs with its own number as gid.
pub fn ids(id: &Identity, passwd: &str) -> Result<Option<(u32, u32)>, String> {
    match id {
        Identity::LocalUser(name) => entries(passwd)
            .find(|e| e.0 == name)
            .map(|e| Some((e.1, e.2)))
            .ok_or_else(|| {
                format!("the agent's identity is the local user `{name}`, who does not exist here")
            }),
        Identity::LocalUid(uid) => Ok(Some(
            entries(passwd)
                .find(|e| e.1 == *uid)
                .map_or((*uid, *uid), |e| (e.1, e.2)),
        )),
        _ => Ok(None),
    }
}

/// The identity every audit record carries: `local(current)` made concrete with the
/// uid of the user running the agent.
pub fn concrete(id: &Identity, current_uid: u32) -> String {
    match id {
        Identity::Current => format!("local(uid: {current_uid})"),
        id => id.to_string(),
    }
}

/// The home directory of `uid` (not `/`), for `~` in a learned policy.
pub fn home(uid: u32, passwd: &str) -> Option<String> {
    entries(passwd)
        .find(|e| e.1 == uid && e.3.starts_with('/') && e.3 != "/")
        .map(|e| e.3.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                          alice:x:1000:1001::/home/alice:/bin/sh\n\
                          broken:x:notanumber:1\n\
                          nobody:x:65534:65534::/:/usr/sbin/nologin\n";

    #[test]
    fn local_identities_resolve_or_refuse() {
        assert_eq!(
            ids(&Identity::LocalUser("alice".into()), PASSWD),
            Ok(Some((1000, 1001)))
        );
        let e = ids(&Identity::LocalUser("mallory".into()), PASSWD).unwrap_err();
        assert!(e.contains("`mallory`, who does not exist"), "{e}");
        // A malformed line never matches.
        assert!(ids(&Identity::LocalUser("broken".into()), PASSWD).is_err());
        assert_eq!(
            ids(&Identity::LocalUid(1000), PASSWD),
            Ok(Some((1000, 1001)))
        );
        assert_eq!(
            ids(&Identity::LocalUid(4242), PASSWD),
            Ok(Some((4242, 4242)))
        );
        assert_eq!(ids(&Identity::Current, PASSWD), Ok(None));
    }

    #[test]
    fn current_is_made_concrete_and_homes_found() {
        assert_eq!(concrete(&Identity::Current, 1000), "local(uid: 1000)");
        assert_eq!(
            concrete(&Identity::LocalUser("alice".into()), 0),
            "local(user: \"alice\")"
        );
        assert_eq!(home(1000, PASSWD).as_deref(), Some("/home/alice"));
        assert_eq!(home(65534, PASSWD), None);
        assert_eq!(home(7, PASSWD), None);
    }
}
