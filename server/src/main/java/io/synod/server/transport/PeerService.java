package io.synod.server.transport;

import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.synod.consensus.Message;
import java.util.function.Predicate;

/**
 * Receives frames from peers and hands each decoded message to the local member (Raft messages
 * normally to {@code ReplicaDriver::deliver}, which drops them when its inbox is full; forwarded
 * writes to the forwarding handler). A frame that does not
 * decode is refused with INVALID_ARGUMENT and nothing in it is delivered.
 */
public final class PeerService {
    private PeerService() {}

    private static final byte[] EMPTY = new byte[0];

    /**
     * Hands a peer frame's messages addressed to {@code localId} to {@code deliver}, in order, then runs
     * {@code frameDone}; the one way frames are taken in, from the gRPC stream and from socket links alike.
     * The frame is decoded whole first, so one that does not decode delivers nothing.
     *
     * @throws IllegalArgumentException if the frame does not decode
     */
    static void deliverFrame(byte[] frame, long localId, Predicate<Message> deliver, Runnable frameDone) {
        for (Message m : RaftMessageCodec.decodeBatch(frame)) {
            if (m.to() == localId) deliver.test(m);
        }
        frameDone.run();
    }

    /**
     * @param deliver    takes each message addressed to this member, in frame order, on the transport
     *                   thread that read it: Raft messages and {@link ForwardMessage}s alike
     * @param frameDone  runs after the last message of each frame was delivered, on the same thread
     *                   (the member handles a frame's messages in one pass: one Ready, one fsync)
     * @param socketPort the port of this member's {@link RaftSocketListener}, 0 if it has none (told in {@code Hello})
     */
    public static ServerServiceDefinition definition(long localId, Predicate<Message> deliver, Runnable frameDone, int socketPort) {
        byte[] hello = new PeerProtocol.HelloReply(localId, socketPort).encode();
        return ServerServiceDefinition.builder(PeerProtocol.SERVICE)
                .addMethod(PeerProtocol.HELLO, ServerCalls.asyncUnaryCall((request, response) -> {
                    response.onNext(hello);
                    response.onCompleted();
                }))
                .addMethod(PeerProtocol.STREAM, ServerCalls.asyncClientStreamingCall(response -> new StreamObserver<byte[]>() {
                    private boolean failed;

                    @Override
                    public void onNext(byte[] frame) {
                        if (failed) return;
                        try {
                            deliverFrame(frame, localId, deliver, frameDone);
                        } catch (IllegalArgumentException e) {
                            failed = true;
                            response.onError(Status.INVALID_ARGUMENT.withDescription("bad peer frame: " + e.getMessage()).asRuntimeException());
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        // The sender went away; it opens a new stream when it can reach us again.
                    }

                    @Override
                    public void onCompleted() {
                        if (failed) return;
                        response.onNext(EMPTY);
                        response.onCompleted();
                    }
                }))
                .build();
    }
}
