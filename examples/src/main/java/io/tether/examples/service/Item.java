package io.tether.examples.service;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.jspecify.annotations.Nullable;

/** An item as the API shows it. */
public record Item(long id, String title, @Nullable String description, @JsonProperty("owner_id") long ownerId) {
}
