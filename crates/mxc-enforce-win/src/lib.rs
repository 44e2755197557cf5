//! Windows enforcement plan (AppContainer, ACLs, job objects, WFP). Not built yet.
