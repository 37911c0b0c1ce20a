package io.synod.server;

import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;

/**
 * Adds a hand-declared method to a service the published {@code jetcd-grpc} stubs generate, for
 * calls those stubs lack (LeaseLeases, MemberPromote, AuthStatus): gRPC needs one service
 * descriptor naming every method, so the generated definition is rebuilt with the extra one.
 */
final class HandDeclared {
    private HandDeclared() {}

    /** {@code service} with {@code method} served by {@code handler}. */
    static <Q, A> ServerServiceDefinition extend(ServerServiceDefinition service, MethodDescriptor<Q, A> method, ServerCallHandler<Q, A> handler) {
        var descriptor = ServiceDescriptor.newBuilder(service.getServiceDescriptor().getName());
        for (MethodDescriptor<?, ?> m : service.getServiceDescriptor().getMethods()) descriptor.addMethod(m);
        descriptor.addMethod(method);
        var def = ServerServiceDefinition.builder(descriptor.build());
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) def.addMethod(m);
        def.addMethod(method, handler);
        return def.build();
    }
}
