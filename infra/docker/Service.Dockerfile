# One image recipe for every service: docker compose passes the project name.
# CPU by default. The GPU denoise worker: ONNX_DEVICE=cuda (ONNX Runtime's CUDA build) on a CUDA 12 +
# cuDNN 9 runtime base (RUNTIME_BASE, see shared/Pipeline.Denoising/README.md), which gets the .NET runtime here.
ARG RUNTIME_BASE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG PROJECT
ARG ONNX_DEVICE=cpu
WORKDIR /src
COPY . .
RUN dotnet publish "services/${PROJECT}/${PROJECT}.csproj" -c Release -p:OnnxDevice=${ONNX_DEVICE} -o /app

FROM ${RUNTIME_BASE}
ARG PROJECT
# A non-.NET base (the CUDA one) gets the ASP.NET Core runtime from the SDK image.
COPY --from=build /usr/share/dotnet /usr/share/dotnet
ENV PATH="/usr/share/dotnet:${PATH}" \
    DOTNET_ROOT=/usr/share/dotnet \
    SERVICE_DLL="${PROJECT}.dll" \
    MALLOC_MMAP_MAX_=0 \
    MALLOC_TRIM_THRESHOLD_=68719476736
WORKDIR /app
COPY --from=build /app .
ENTRYPOINT ["sh", "-c", "exec dotnet \"$SERVICE_DLL\""]
