package io.tether.examples.service;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** A user as the API shows it: never with its password hash, always with its items. */
public record User(long id, String email, @JsonProperty("is_active") boolean active, List<Item> items) {
}
