package io.tether.webflux.internal;

import java.util.ArrayList;
import java.util.List;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseCookie;
import org.springframework.http.server.reactive.AbstractServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A response that keeps what the handler writes in heap memory, so that a transaction can end (commit or
 * roll back) before anything reaches the client, and the outcome decides what the client gets. Heap
 * buffers need no release: a response abandoned by a rollback or a cancel is simply garbage.
 */
public final class BufferedResponse extends AbstractServerHttpResponse {

	private final int maxBytes;
	private final List<DataBuffer> body = new ArrayList<>();
	private int size;

	public BufferedResponse(int maxBytes) {
		super(DefaultDataBufferFactory.sharedInstance, new HttpHeaders());
		this.maxBytes = maxBytes;
	}

	@Override
	public <T> T getNativeResponse() {
		throw new UnsupportedOperationException("A buffered response has no native response");
	}

	@Override
	protected Mono<Void> writeWithInternal(Publisher<? extends DataBuffer> body) {
		return Flux.from(body).doOnNext(this::append).then();
	}

	@Override
	protected Mono<Void> writeAndFlushWithInternal(Publisher<? extends Publisher<? extends DataBuffer>> body) {
		return Flux.from(body).concatMap(Flux::from).doOnNext(this::append).then();
	}

	private synchronized void append(DataBuffer buffer) {
		int length = buffer.readableByteCount();
		if (size + length > maxBytes) {
			DataBufferUtils.release(buffer);
			throw new DataBufferLimitException("The response of a transactional request is buffered until the commit and "
					+ "exceeded the limit of " + maxBytes + " bytes (maxBufferedBytes)");
		}
		// Copied to the heap: the writer may hand out pooled buffers that must be released at once.
		byte[] bytes = new byte[length];
		buffer.read(bytes);
		DataBufferUtils.release(buffer);
		body.add(DefaultDataBufferFactory.sharedInstance.wrap(bytes));
		size += length;
	}

	@Override
	protected void applyStatusCode() {
	}

	@Override
	protected void applyHeaders() {
	}

	@Override
	protected void applyCookies() {
	}

	/** Status, headers and cookies as the handler set them, copied onto {@code target}. */
	public void copyMetadataTo(ServerHttpResponse target) {
		HttpStatusCode status = getStatusCode();
		if (status != null) {
			target.setStatusCode(status);
		}
		getHeaders().forEach((name, values) -> target.getHeaders().put(name, new ArrayList<>(values)));
		for (List<ResponseCookie> cookies : getCookies().values()) {
			cookies.forEach(target::addCookie);
		}
	}

	/** The body written so far, in order. */
	public synchronized List<DataBuffer> body() {
		return List.copyOf(body);
	}

	/** Writes what was buffered to {@code target} and completes it. */
	public Mono<Void> replayTo(ServerHttpResponse target) {
		return Mono.defer(() -> {
			copyMetadataTo(target);
			List<DataBuffer> buffers = body();
			return buffers.isEmpty() ? target.setComplete() : target.writeWith(Flux.fromIterable(buffers));
		});
	}

	/** Whether the handler set a 5xx status. */
	public boolean isServerError() {
		HttpStatusCode status = getStatusCode();
		return status != null && status.is5xxServerError();
	}
}
